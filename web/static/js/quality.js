// Inspection attachments: each chosen photo or certificate is uploaded as it is chosen; the server keeps it
// by its SHA-256 and the form carries what it answered, so the inspection event names exactly that file.
(function () {
  'use strict';
  var box = document.getElementById('attach');
  if (!box) return;
  var texts = {};
  try { texts = JSON.parse(box.dataset.texts || '{}'); } catch (e) { texts = {}; }
  var t = function (key, values) {
    var s = texts[key] || key;
    Object.keys(values || {}).forEach(function (k) { s = s.split('{' + k + '}').join(values[k]); });
    return s;
  };
  var list = document.getElementById('attach-list');
  var form = box.closest('form');
  var upload = function (file) {
    var item = document.createElement('li');
    item.textContent = t('q.attach.uploading', { name: file.name });
    list.appendChild(item);
    return fetch('/api/v1/quality/attachments', {
      method: 'POST', credentials: 'same-origin', body: file,
      headers: { 'Content-Type': file.type || 'application/octet-stream', 'X-File-Name': encodeURIComponent(file.name),
        Accept: 'application/json', 'X-CSRF-Token': box.dataset.csrf }
    }).then(function (r) {
      return r.json().then(function (j) { return { ok: r.ok, j: j }; });
    }).then(function (a) {
      item.textContent = '';
      if (!a.ok) {
        item.className = 'error';
        var why = (a.j.errors || []).map(function (e) { return e.detail; }).join('; ') || a.j.detail || '';
        item.textContent = t('q.attach.failed', { name: file.name, why: why });
        return;
      }
      var link = document.createElement('a');
      link.href = a.j.url; link.target = '_blank'; link.rel = 'noopener';
      link.textContent = a.j.name;
      item.appendChild(link);
      item.dataset.sha256 = a.j.sha256;
      var field = document.createElement('input');
      field.type = 'hidden'; field.name = 'attachment'; field.value = JSON.stringify(a.j);
      form.appendChild(field);
    }).catch(function (e) { item.className = 'error'; item.textContent = t('q.attach.failed', { name: file.name, why: String(e) }); });
  };
  document.getElementById('attach-file').addEventListener('change', function (ev) {
    Array.prototype.forEach.call(ev.target.files, upload);
    ev.target.value = '';
  });
})();
