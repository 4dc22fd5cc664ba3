// Master data import: the chosen CSV or XLSX file goes as it is to the API, first as a check (nothing is
// stored), then for real; every bad row and column is listed.
(function () {
  'use strict';
  var box = document.getElementById('md-import');
  if (!box) return;
  var texts = {};
  try { texts = JSON.parse(box.dataset.texts || '{}'); } catch (e) { texts = {}; }
  var t = function (key, values) {
    var s = texts[key] || key;
    Object.keys(values || {}).forEach(function (k) { s = s.split('{' + k + '}').join(values[k]); });
    return s;
  };
  var out = document.getElementById('md-result');
  var cell = function (tag, text) { var c = document.createElement(tag); c.textContent = text; return c; };
  var send = function (dry) {
    var file = document.getElementById('md-file').files[0];
    if (!file) return;
    file.arrayBuffer().then(function (bytes) {
      return fetch('/api/v1/masterdata/' + encodeURIComponent(box.dataset.kind) + '/import?dry_run=' + dry, {
        method: 'POST', credentials: 'same-origin', body: bytes,
        headers: { 'Content-Type': 'application/octet-stream', Accept: 'application/json', 'X-CSRF-Token': box.dataset.csrf }
      });
    }).then(function (r) { return r.json(); }).then(function (j) {
      out.textContent = '';
      if (j.problems && j.problems.length) {
        out.appendChild(cell('p', t('md.problems'))).className = 'error';
        var table = document.createElement('table');
        table.id = 'md-problems';
        var head = document.createElement('tr');
        ['md.row', 'md.column', 'md.expected'].forEach(function (k) { head.appendChild(cell('th', t(k))); });
        table.appendChild(head);
        j.problems.forEach(function (p) {
          var tr = document.createElement('tr');
          tr.appendChild(cell('td', p.row)); tr.appendChild(cell('td', p.column)); tr.appendChild(cell('td', p.expected));
          table.appendChild(tr);
        });
        var wrap = document.createElement('div'); wrap.className = 'table-wrap'; wrap.appendChild(table);
        out.appendChild(wrap);
      } else if (j.rows !== undefined) {
        var msg = j.imported ? t('md.imported', j) : t('md.clean', j);
        out.appendChild(cell('p', msg)).className = 'notice good';
        if (j.imported) setTimeout(function () { location.reload(); }, 1200);
      } else {
        out.appendChild(cell('p', j.detail || String(j))).className = 'error';
      }
    }).catch(function (e) { out.textContent = String(e); });
  };
  document.getElementById('md-check').addEventListener('click', function () { send(true); });
  document.getElementById('md-do-import').addEventListener('click', function () { send(false); });
})();
