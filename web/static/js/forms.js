// Filling in a form: a scan field looks its code up and fills the fields it names; rows can be added and
// removed; photos and a drawn signature are uploaded and kept by their SHA-256; which fields the values
// hide and what the calculated fields come to are asked of the server, which holds the form's rules.
(function () {
  'use strict';
  // The form to fill in, or another screen's form carrying a plan's own fields (named with a prefix).
  var form = document.getElementById('fill') || document.querySelector('form[data-extra-form]');
  if (!form) return;
  var prefix = form.dataset.prefix || '';
  var texts = {};
  try { texts = JSON.parse(form.dataset.texts || '{}'); } catch (e) { texts = {}; }
  var t = function (key, values) {
    var s = texts[key] || key;
    Object.keys(values || {}).forEach(function (k) { s = s.split('{' + k + '}').join(values[k]); });
    return s;
  };
  var csrf = form.dataset.csrf;
  var code = form.dataset.code;

  // Scan fields: look the code up, say what it is, fill the fields it names when they are empty.
  var lookup = function (input) {
    var note = input.parentNode.querySelector('.scan-found');
    var value = input.value.trim();
    if (!note) return;
    if (!value) { note.textContent = ''; return; }
    fetch('/api/v1/forms/lookup?code=' + encodeURIComponent(value), {
      credentials: 'same-origin', headers: { Accept: 'application/json' }
    }).then(function (r) { return r.json().then(function (j) { return { ok: r.ok, j: j }; }); })
      .then(function (a) {
        if (!a.ok) { note.className = 'scan-found field-error'; note.textContent = t('form.scan.unknown', { code: value }); return; }
        var f = a.j.found || {};
        var what = [f.name || f.product, f.lot, f.serial].filter(Boolean).join(' · ') || a.j.scanned.key;
        note.className = 'scan-found ' + (f.exists ? 'good' : 'muted');
        note.textContent = t('form.scan.found', { what: what }) + ' — ' + t(f.exists ? 'form.scan.known' : 'form.scan.new');
        var prefill = {};
        try { prefill = JSON.parse(input.dataset.prefill || '{}'); } catch (e) { prefill = {}; }
        Object.keys(prefill).forEach(function (name) {
          var target = form.querySelector('[name="' + name + '"]');
          var v = f[prefill[name]];
          if (target && !target.value && v) { target.value = v; target.dispatchEvent(new Event('change', { bubbles: true })); }
        });
      }).catch(function () { note.textContent = ''; });
  };
  form.addEventListener('change', function (ev) {
    if (ev.target.classList && ev.target.classList.contains('scan')) lookup(ev.target);
  });
  // A scanner ends with Enter: look the code up instead of submitting half a form.
  form.addEventListener('keydown', function (ev) {
    if (ev.key === 'Enter' && ev.target.classList && ev.target.classList.contains('scan')) {
      ev.preventDefault();
      lookup(ev.target);
      var all = Array.prototype.slice.call(form.querySelectorAll('input:not([type=hidden]), select, textarea'));
      var next = all[all.indexOf(ev.target) + 1];
      if (next) next.focus();
    }
  });

  // Table rows: a new row is the last one emptied and renumbered.
  var renumber = function (table) {
    var name = table.dataset.table;
    Array.prototype.forEach.call(table.tBodies[0].rows, function (row, i) {
      Array.prototype.forEach.call(row.querySelectorAll('[name]'), function (el) {
        el.name = el.name.replace(new RegExp('^' + name.replace(/\./g, '\\.') + '\\.\\d+\\.'), name + '.' + i + '.');
      });
    });
  };
  form.addEventListener('click', function (ev) {
    var b = ev.target;
    if (b.classList.contains('row-add')) {
      var table = b.parentNode.querySelector('table');
      var body = table.tBodies[0];
      var row = body.rows[body.rows.length - 1].cloneNode(true);
      Array.prototype.forEach.call(row.querySelectorAll('input, select, textarea'), function (el) {
        if (el.type === 'checkbox') el.checked = false; else el.value = '';
      });
      Array.prototype.forEach.call(row.querySelectorAll('.field-error, .scan-found'), function (el) { el.textContent = ''; });
      body.appendChild(row);
      renumber(table);
    } else if (b.classList.contains('row-remove')) {
      var tb = b.closest('tbody');
      if (tb.rows.length > 1) { b.closest('tr').remove(); renumber(tb.closest('table')); }
    }
  });

  // Photos and signatures: uploaded, kept by their SHA-256, named in the hidden field.
  var upload = function (box, blob, name) {
    var state = box.querySelector('.picture-state');
    var hidden = box.querySelector('input[type=hidden]');
    state.textContent = t('form.photo.uploading');
    return fetch('/api/v1/quality/attachments', {
      method: 'POST', credentials: 'same-origin', body: blob,
      headers: { 'Content-Type': blob.type || 'application/octet-stream', 'X-File-Name': encodeURIComponent(name),
        Accept: 'application/json', 'X-CSRF-Token': csrf }
    }).then(function (r) { return r.json().then(function (j) { return { ok: r.ok, j: j }; }); })
      .then(function (a) {
        if (!a.ok) {
          var why = (a.j.errors || []).map(function (e) { return e.detail; }).join('; ') || a.j.detail || '';
          state.textContent = t('form.photo.failed', { why: why });
          return;
        }
        hidden.value = a.j.sha256;
        state.textContent = box.dataset.kind === 'signature' ? t('form.signature.saved') : a.j.name;
      }).catch(function (e) { state.textContent = t('form.photo.failed', { why: String(e) }); });
  };
  Array.prototype.forEach.call(form.querySelectorAll('.picture[data-kind=photo] input[type=file]'), function (input) {
    input.addEventListener('change', function () {
      if (input.files[0]) upload(input.closest('.picture'), input.files[0], input.files[0].name);
    });
  });
  Array.prototype.forEach.call(form.querySelectorAll('.picture[data-kind=signature]'), function (box) {
    var canvas = box.querySelector('canvas');
    var ctx = canvas.getContext('2d');
    var drawing = false, drawn = false;
    ctx.lineWidth = 2; ctx.lineCap = 'round'; ctx.strokeStyle = '#111';
    var at = function (ev) {
      var r = canvas.getBoundingClientRect();
      return [(ev.clientX - r.left) * canvas.width / r.width, (ev.clientY - r.top) * canvas.height / r.height];
    };
    canvas.addEventListener('pointerdown', function (ev) {
      drawing = true; var p = at(ev); ctx.beginPath(); ctx.moveTo(p[0], p[1]); canvas.setPointerCapture(ev.pointerId);
    });
    canvas.addEventListener('pointermove', function (ev) {
      if (!drawing) return; var p = at(ev); ctx.lineTo(p[0], p[1]); ctx.stroke(); drawn = true;
    });
    canvas.addEventListener('pointerup', function () {
      if (!drawing) return;
      drawing = false;
      if (drawn) canvas.toBlob(function (blob) { if (blob) upload(box, blob, 'signature.png'); }, 'image/png');
    });
    box.querySelector('.sign-clear').addEventListener('click', function () {
      ctx.clearRect(0, 0, canvas.width, canvas.height); drawn = false;
      box.querySelector('input[type=hidden]').value = '';
      box.querySelector('.picture-state').textContent = t('form.signature.hint');
    });
  });

  // Conditional and calculated fields: the server evaluates the form's expressions.
  var conditional = form.querySelectorAll('[data-conditional]').length > 0;
  var calculated = form.querySelectorAll('output.calculated').length > 0;
  var timer = null;
  var refresh = function () {
    var values = {};
    Array.prototype.forEach.call(form.elements, function (el) {
      if (!el.name || el.name.charAt(0) === '_' || el.name.indexOf('.') >= 0) return;
      if (prefix && el.name.indexOf(prefix) !== 0) return;
      var name = el.name.slice(prefix.length);
      if (el.type === 'checkbox') { if (el.checked) (values[name] = values[name] || []).push(el.value); return; }
      values[name] = el.value;
    });
    fetch('/forms/' + encodeURIComponent(code) + '/live', {
      method: 'POST', credentials: 'same-origin', body: JSON.stringify(values),
      headers: { 'Content-Type': 'application/json', Accept: 'application/json', 'X-CSRF-Token': csrf }
    }).then(function (r) { return r.ok ? r.json() : null; }).then(function (j) {
      if (!j) return;
      Array.prototype.forEach.call(form.querySelectorAll('.ffield[data-key]'), function (div) {
        div.hidden = j.hidden.indexOf(div.dataset.key) >= 0;
      });
      Object.keys(j.calculated).forEach(function (k) {
        var out = form.querySelector('output.calculated[data-key="' + k + '"]');
        if (out) out.textContent = j.calculated[k];
      });
    }).catch(function () {});
  };
  if (conditional || calculated) {
    form.addEventListener('input', function () { clearTimeout(timer); timer = setTimeout(refresh, 250); });
    form.addEventListener('change', function () { clearTimeout(timer); timer = setTimeout(refresh, 50); });
    refresh();
  }
})();
