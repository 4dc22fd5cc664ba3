// The form designer: the definition lives in the JSON field the page posts; the palette adds fields, a
// card per field edits its properties, "⠿" drags a card to another place (pointer events, so a mouse, a
// finger and a test's pointer all work; the arrows do the same from the keyboard), and the preview is the
// server's own drawing of the form at phone or desktop width.
(function () {
  'use strict';
  var root = document.getElementById('designer');
  if (!root) return;
  var texts = {};
  try { texts = JSON.parse(root.dataset.texts || '{}'); } catch (e) { texts = {}; }
  var t = function (key) { return texts[key] || key; };
  var english = (document.documentElement.lang || '').indexOf('en') === 0;
  var named = function (f) { return (english && f.label && f.label.en) || (f.label && f.label.zh) || f.key; };
  var area = document.getElementById('definition');
  var cards = document.getElementById('fcards');
  var preview = document.getElementById('preview');
  var def;
  try { def = JSON.parse(area.value); } catch (e) { def = { code: '', name: { zh: '' }, fields: [], event: { type: 'ObjectEvent', biz_step: '' } }; }
  def.fields = def.fields || [];
  def.event = def.event || {};
  def.name = def.name || { zh: '', en: '' };

  var el = function (tag, attrs, kids) {
    var n = document.createElement(tag);
    Object.keys(attrs || {}).forEach(function (k) {
      if (k === 'text') n.textContent = attrs[k];
      else if (k === 'checked') n.checked = !!attrs[k];
      else if (k === 'value') n.value = attrs[k] === undefined || attrs[k] === null ? '' : attrs[k];
      else n.setAttribute(k, attrs[k]);
    });
    (kids || []).forEach(function (c) { if (c) n.appendChild(c); });
    return n;
  };
  // A labelled input bound to obj[key]; `read` turns the typed text into the stored value.
  var field = function (label, obj, key, opts) {
    opts = opts || {};
    var input;
    if (opts.type === 'checkbox') {
      input = el('input', { type: 'checkbox', checked: obj[key] });
      input.addEventListener('change', function () { if (input.checked) obj[key] = true; else delete obj[key]; sync(); });
      return el('label', { 'class': 'check' }, [input, document.createTextNode(' ' + label)]);
    }
    if (opts.choices) {
      input = el('select', {});
      opts.choices.forEach(function (c) { input.appendChild(el('option', { value: c[0], text: c[1] })); });
      input.value = obj[key] === undefined ? opts.choices[0][0] : obj[key];
    } else if (opts.rows) {
      input = el('textarea', { rows: opts.rows, spellcheck: 'false', value: opts.show ? opts.show(obj[key]) : obj[key] });
    } else {
      input = el('input', { value: opts.show ? opts.show(obj[key]) : obj[key] });
    }
    if (opts.name) input.setAttribute('data-prop', opts.name);
    input.addEventListener('change', function () {
      var v = opts.read ? opts.read(input.value) : input.value;
      if (v === '' || v === undefined || v === null) delete obj[key]; else obj[key] = v;
      sync();
      if (opts.rerender) heads();
    });
    return el('label', {}, [document.createTextNode(label), input]);
  };
  var num = function (s) { var n = parseFloat(s); return isNaN(n) ? '' : n; };
  var lines = function (s) { return s.split('\n').map(function (x) { return x.trim(); }).filter(Boolean); };
  var options = {
    show: function (o) { return (o || []).map(function (c) { return c.value + '=' + c.label.zh + (c.label.en ? '/' + c.label.en : ''); }).join('\n'); },
    read: function (s) {
      return lines(s).map(function (l) {
        var kv = l.split('='); var names = (kv[1] || kv[0]).split('/');
        return { value: kv[0].trim(), label: { zh: names[0].trim(), en: (names[1] || '').trim() } };
      });
    }
  };
  var mapping = {
    show: function (m) { return Object.keys(m || {}).map(function (k) { return k + '=' + m[k]; }).join('\n'); },
    read: function (s) {
      var m = {}; lines(s).forEach(function (l) { var kv = l.split('='); if (kv[1]) m[kv[0].trim()] = kv[1].trim(); });
      return Object.keys(m).length ? m : '';
    }
  };
  var json = {
    show: function (v) { return JSON.stringify(v || [], null, 1); },
    read: function (s) { try { return JSON.parse(s); } catch (e) { return undefined; } }
  };

  var props = function (f) {
    var out = [
      field(t('form.prop.key'), f, 'key', { name: 'key', rerender: true }),
      field(t('form.prop.label_zh'), f.label, 'zh', { name: 'label_zh', rerender: true }),
      field(t('form.prop.label_en'), f.label, 'en', { name: 'label_en', rerender: true }),
      field(t('form.prop.required'), f, 'required', { type: 'checkbox' }),
      field(t('form.prop.visible_if'), f, 'visible_if', { name: 'visible_if' })
    ];
    var add = function (x) { out.push(x); };
    switch (f.type) {
      case 'text': add(field(t('form.prop.multiline'), f, 'multiline', { type: 'checkbox' })); break;
      case 'number':
        add(field(t('form.prop.unit'), f, 'unit', { name: 'unit' }));
        add(field(t('form.prop.min'), f, 'min', { read: num, name: 'min' }));
        add(field(t('form.prop.max'), f, 'max', { read: num, name: 'max' }));
        add(field(t('form.prop.decimals'), f, 'decimals', { read: num, name: 'decimals' }));
        break;
      case 'select': case 'multi_select':
        add(field(t('form.prop.options'), f, 'options', { rows: 4, show: options.show, read: options.read, name: 'options' }));
        break;
      case 'datetime': add(field(t('form.prop.date_only'), f, 'date_only', { type: 'checkbox' })); break;
      case 'scan':
        add(field(t('form.prop.role'), f, 'role', { name: 'role', choices: ['none', 'object', 'input', 'output', 'parent', 'child'].map(function (r) { return [r, t('form.role.' + r)]; }) }));
        add(field(t('form.prop.require_ai'), f, 'require_ai', { name: 'require_ai' }));
        add(field(t('form.prop.object_kind'), f, 'object_kind', { name: 'object_kind', choices: [['', '—'], ['instance', 'instance'], ['class', 'class'], ['container', 'container']] }));
        add(field(t('form.prop.must_exist'), f, 'must_exist', { type: 'checkbox' }));
        add(field(t('form.prop.coding_rule'), f, 'coding_rule', { name: 'coding_rule' }));
        add(field(t('form.prop.prefill'), f, 'prefill', { rows: 2, show: mapping.show, read: mapping.read, name: 'prefill' }));
        add(field(t('form.prop.quantity_field'), f, 'quantity_field', { name: 'quantity_field' }));
        break;
      case 'table':
        add(field(t('form.prop.min_rows'), f, 'min_rows', { read: num, name: 'min_rows' }));
        add(field(t('form.prop.columns'), f, 'columns', { rows: 6, show: json.show, read: json.read, name: 'columns' }));
        break;
      case 'calculated':
        add(field(t('form.prop.expr'), f, 'expr', { name: 'expr' }));
        add(field(t('form.prop.unit'), f, 'unit', { name: 'unit' }));
        add(field(t('form.prop.decimals'), f, 'decimals', { read: num, name: 'decimals' }));
        break;
    }
    return out;
  };

  var move = function (from, to) {
    if (to < 0 || to >= def.fields.length || from === to) return;
    var f = def.fields.splice(from, 1)[0];
    def.fields.splice(to, 0, f);
    sync(); render();
  };
  var dragging = null;
  var card = function (f, i) {
    var handle = el('span', { 'class': 'drag', title: t('form.drag'), 'aria-hidden': 'true', text: '⠿' });
    var head = el('div', { 'class': 'fcard-head' }, [
      handle,
      el('strong', { text: named(f) }),
      el('code', { text: f.key }),
      el('span', { 'class': 'badge info', text: t('form.type.' + f.type) }),
      el('span', { 'class': 'grow' }),
      el('button', { type: 'button', 'class': 'secondary up', title: t('form.move_up'), 'aria-label': t('form.move_up'), text: '↑' }),
      el('button', { type: 'button', 'class': 'secondary down', title: t('form.move_down'), 'aria-label': t('form.move_down'), text: '↓' }),
      el('button', { type: 'button', 'class': 'secondary remove', title: t('form.remove'), 'aria-label': t('form.remove'), text: '×' })
    ]);
    var body = el('div', { 'class': 'fcard-body cols two' }, props(f));
    var li = el('li', { 'class': 'fcard card', 'data-key': f.key, 'data-index': i }, [head, body]);
    head.querySelector('.up').addEventListener('click', function () { move(i, i - 1); });
    head.querySelector('.down').addEventListener('click', function () { move(i, i + 1); });
    head.querySelector('.remove').addEventListener('click', function () { def.fields.splice(i, 1); sync(); render(); });
    handle.addEventListener('pointerdown', function (ev) {
      ev.preventDefault();
      dragging = f.key;
      li.classList.add('dragging');
    });
    return li;
  };
  document.addEventListener('pointermove', function (ev) {
    if (!dragging) return;
    var over = document.elementFromPoint(ev.clientX, ev.clientY);
    var target = over && over.closest ? over.closest('.fcard') : null;
    if (!target || target.dataset.key === dragging) return;
    var from = def.fields.findIndex(function (x) { return x.key === dragging; });
    var to = parseInt(target.dataset.index, 10);
    if (from >= 0 && !isNaN(to)) {
      move(from, to);
      var again = cards.querySelector('.fcard[data-key="' + dragging + '"]');
      if (again) again.classList.add('dragging');
    }
  });
  document.addEventListener('pointerup', function () {
    if (!dragging) return;
    dragging = null;
    Array.prototype.forEach.call(cards.querySelectorAll('.dragging'), function (c) { c.classList.remove('dragging'); });
  });

  var meta = function () {
    var box = document.getElementById('design-meta');
    box.textContent = '';
    if (root.dataset['new']) box.appendChild(field(t('form.code'), def, 'code', { name: 'code' }));
    box.appendChild(field(t('form.name_zh'), def.name, 'zh', { name: 'name_zh' }));
    box.appendChild(field(t('form.name_en'), def.name, 'en', { name: 'name_en' }));
    if (def.enabled === undefined) def.enabled = true;
    var on = el('input', { type: 'checkbox', checked: def.enabled });
    on.addEventListener('change', function () { def.enabled = on.checked; sync(); });
    box.appendChild(el('label', { 'class': 'check' }, [on, document.createTextNode(' ' + t('form.enabled'))]));
  };
  var template = function () {
    var box = document.getElementById('design-event');
    Array.prototype.slice.call(box.querySelectorAll('label')).forEach(function (l) { l.remove(); });
    var e = def.event;
    box.appendChild(field(t('form.tpl.type'), e, 'type', { name: 'event_type', choices: [['ObjectEvent', 'ObjectEvent'], ['AggregationEvent', 'AggregationEvent'], ['TransformationEvent', 'TransformationEvent']] }));
    box.appendChild(field(t('form.tpl.action'), e, 'action', { name: 'event_action', choices: [['', '—'], ['OBSERVE', 'OBSERVE'], ['ADD', 'ADD'], ['DELETE', 'DELETE']] }));
    box.appendChild(field(t('form.tpl.biz_step'), e, 'biz_step', { name: 'biz_step' }));
    box.appendChild(field(t('form.tpl.disposition'), e, 'disposition', { name: 'disposition' }));
    box.appendChild(field(t('form.tpl.location'), e, 'location', { name: 'location' }));
    box.appendChild(field(t('form.tpl.ilmd'), e, 'ilmd', {
      name: 'ilmd', show: function (v) { return (v || []).join(', '); },
      read: function (s) { var l = s.split(',').map(function (x) { return x.trim(); }).filter(Boolean); return l.length ? l : ''; }
    }));
    box.appendChild(field(t('form.tpl.sensors'), e, 'sensors', {
      name: 'sensors', rows: 2,
      show: function (v) { return (v || []).map(function (s) { return s.field + '=' + s.type + '/' + s.uom; }).join('\n'); },
      read: function (s) {
        var l = lines(s).map(function (x) {
          var kv = x.split('='); var tu = (kv[1] || '').split('/');
          return { field: kv[0].trim(), type: (tu[0] || '').trim(), uom: (tu[1] || '').trim() };
        });
        return l.length ? l : '';
      }
    }));
  };
  // A card's title follows its field's label and key without redrawing the card being typed in.
  var heads = function () {
    Array.prototype.forEach.call(cards.children, function (li, i) {
      var f = def.fields[i];
      if (!f) return;
      li.dataset.key = f.key;
      li.querySelector('.fcard-head strong').textContent = named(f);
      li.querySelector('.fcard-head code').textContent = f.key;
    });
  };
  var render = function () {
    cards.textContent = '';
    def.fields.forEach(function (f, i) { cards.appendChild(card(f, i)); });
  };

  var timer = null;
  var draw = function () {
    fetch('/forms/preview', {
      method: 'POST', credentials: 'same-origin', body: area.value,
      headers: { 'Content-Type': 'application/json', 'X-CSRF-Token': root.dataset.csrf }
    }).then(function (r) { return r.text(); }).then(function (html) {
      // The server's own drawing of the form (escaped there); its inputs are not posted.
      preview.innerHTML = html;
      Array.prototype.forEach.call(preview.querySelectorAll('[name]'), function (n) { n.removeAttribute('name'); });
    }).catch(function () {});
  };
  var sync = function () {
    area.value = JSON.stringify(def, null, 2);
    clearTimeout(timer);
    timer = setTimeout(draw, 200);
  };
  area.addEventListener('change', function () {
    try { def = JSON.parse(area.value); def.fields = def.fields || []; def.event = def.event || {}; def.name = def.name || { zh: '' }; meta(); template(); render(); sync(); } catch (e) { /* shown on save */ }
  });

  Array.prototype.forEach.call(root.querySelectorAll('.add-field'), function (b) {
    b.addEventListener('click', function () {
      var type = b.dataset.type;
      var n = 1;
      while (def.fields.some(function (f) { return f.key === type + '_' + n; })) n++;
      var f = { key: type + '_' + n, label: { zh: t('form.type.' + type), en: '' }, type: type };
      if (type === 'select' || type === 'multi_select') f.options = [{ value: 'ok', label: { zh: '合格', en: 'OK' } }, { value: 'ng', label: { zh: '不合格', en: 'Not OK' } }];
      if (type === 'table') f.columns = [{ key: 'item', label: { zh: '项目', en: 'Item' }, type: 'text' }];
      if (type === 'calculated') f.expr = '0';
      if (type === 'scan') f.role = 'none';
      def.fields.push(f);
      sync(); render();
      var last = cards.lastElementChild;
      if (last) { last.scrollIntoView({ block: 'nearest' }); var k = last.querySelector('[data-prop=label_zh]'); if (k) k.focus(); }
    });
  });
  Array.prototype.forEach.call(root.querySelectorAll('.preview-size'), function (b) {
    b.addEventListener('click', function () {
      Array.prototype.forEach.call(root.querySelectorAll('.preview-size'), function (x) { x.classList.toggle('active', x === b); });
      preview.className = 'preview-frame ' + b.dataset.size;
    });
  });
  document.getElementById('design-form').addEventListener('submit', function () { area.value = JSON.stringify(def, null, 2); });

  meta(); template(); render(); sync();
})();
