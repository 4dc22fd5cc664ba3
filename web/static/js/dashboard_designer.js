// The dashboard designer: the definition lives in the JSON field the page posts; each widget is a card in
// the dashboard's own grid (a wide one spans two columns, as on the dashboard), "⠿" drags a card to
// another place with the pointer (the arrows do the same from the keyboard), and each card edits its
// source (a metric or a report), chart, titles, width and gauge scale.
(function () {
  'use strict';
  var root = document.getElementById('dash-designer');
  if (!root) return;
  var texts = {};
  try { texts = JSON.parse(root.dataset.texts || '{}'); } catch (e) { texts = {}; }
  var sources = [];
  try { sources = JSON.parse(root.dataset.sources || '[]'); } catch (e) { sources = []; }
  var t = function (key) { return texts[key] || key; };
  var english = (document.documentElement.lang || '').indexOf('en') === 0;
  var area = document.getElementById('definition');
  var cards = document.getElementById('wcards');
  var def;
  try { def = JSON.parse(area.value); } catch (e) { def = { code: '', name: { zh: '' }, widgets: [] }; }
  def.widgets = def.widgets || [];
  def.name = def.name || { zh: '', en: '' };
  var CHARTS = ['number', 'line', 'bars', 'stacked', 'pie', 'rows', 'gauge'];

  var sync = function () { area.value = JSON.stringify(def, null, 2); };
  var el = function (tag, attrs, kids) {
    var n = document.createElement(tag);
    Object.keys(attrs || {}).forEach(function (k) {
      if (k === 'text') n.textContent = attrs[k];
      else if (k === 'value') n.value = attrs[k] == null ? '' : attrs[k];
      else if (k === 'checked') n.checked = !!attrs[k];
      else n.setAttribute(k, attrs[k]);
    });
    (kids || []).forEach(function (c) { if (c) n.appendChild(c); });
    return n;
  };
  var labelled = function (text, input) { return el('label', {}, [document.createTextNode(text), input]); };
  var bind = function (input, set, redraw) {
    input.addEventListener('change', function () { set(input.type === 'checkbox' ? input.checked : input.value); sync(); if (redraw) render(); });
    return input;
  };

  var move = function (from, to) {
    if (to < 0 || to >= def.widgets.length || from === to) return;
    var w = def.widgets.splice(from, 1)[0];
    def.widgets.splice(to, 0, w);
    sync(); render();
  };
  var dragging = null;
  var card = function (w, i) {
    var source = w.metric ? 'metric:' + w.metric : (w.report ? 'report:' + w.report : '');
    var pick = el('select', { 'data-prop': 'source' });
    sources.forEach(function (s) { pick.appendChild(el('option', { value: s[0], text: s[1] })); });
    pick.value = source;
    bind(pick, function (v) {
      delete w.metric; delete w.report;
      var kv = v.split(':');
      w[kv[0] === 'report' ? 'report' : 'metric'] = kv.slice(1).join(':');
    });
    var chart = el('select', { 'data-prop': 'chart' });
    CHARTS.forEach(function (c) { chart.appendChild(el('option', { value: c, text: t('rep.chart.' + c) })); });
    chart.value = w.chart;
    bind(chart, function (v) { w.chart = v; }, true);
    var handle = el('span', { 'class': 'drag', title: t('form.drag'), 'aria-hidden': 'true', text: '⠿' });
    // The card's heading follows its titles without redrawing the card being typed in.
    var retitle = function () { head.querySelector('h2').textContent = (english && w.title.en) || w.title.zh; };
    var head = el('header', {}, [
      handle,
      el('h2', { text: (english && w.title.en) || w.title.zh }),
      el('span', { 'class': 'grow' }),
      el('button', { type: 'button', 'class': 'secondary up', 'aria-label': '↑', text: '↑' }),
      el('button', { type: 'button', 'class': 'secondary down', 'aria-label': '↓', text: '↓' }),
      el('button', { type: 'button', 'class': 'secondary remove', title: t('rep.remove'), 'aria-label': t('rep.remove'), text: '×' })
    ]);
    var body = el('div', { 'class': 'wcard-body' }, [
      labelled(t('rep.widget.title_zh'), bind(el('input', { value: w.title.zh, 'data-prop': 'title_zh' }), function (v) { w.title.zh = v; retitle(); })),
      labelled(t('rep.widget.title_en'), bind(el('input', { value: w.title.en || '', 'data-prop': 'title_en' }), function (v) { w.title.en = v; retitle(); })),
      labelled(t('rep.widget.source'), pick),
      labelled(t('rep.widget.chart'), chart),
      el('label', { 'class': 'check' }, [bind(el('input', { type: 'checkbox', checked: w.wide }), function (v) { if (v) w.wide = true; else delete w.wide; }, true), document.createTextNode(' ' + t('rep.widget.wide'))]),
      w.chart === 'gauge' ? labelled(t('rep.widget.max'), bind(el('input', { value: w.max, inputmode: 'decimal', 'data-prop': 'max' }), function (v) { var n = parseFloat(v); if (isNaN(n)) delete w.max; else w.max = n; })) : null,
      labelled(t('rep.widget.drill'), bind(el('input', { value: w.drill || '', 'data-prop': 'drill' }), function (v) { if (v) w.drill = v; else delete w.drill; }))
    ]);
    var box = el('section', { 'class': 'widget wcard' + (w.wide ? ' span2' : ''), 'data-index': i, 'data-title': w.title.zh }, [head, body]);
    head.querySelector('.up').addEventListener('click', function () { move(i, i - 1); });
    head.querySelector('.down').addEventListener('click', function () { move(i, i + 1); });
    head.querySelector('.remove').addEventListener('click', function () { def.widgets.splice(i, 1); sync(); render(); });
    handle.addEventListener('pointerdown', function (ev) { ev.preventDefault(); dragging = w; box.classList.add('dragging'); });
    return box;
  };
  document.addEventListener('pointermove', function (ev) {
    if (!dragging) return;
    var over = document.elementFromPoint(ev.clientX, ev.clientY);
    var target = over && over.closest ? over.closest('.wcard') : null;
    if (!target) return;
    var from = def.widgets.indexOf(dragging);
    var to = parseInt(target.dataset.index, 10);
    if (from >= 0 && !isNaN(to) && from !== to) {
      move(from, to);
      var again = cards.querySelector('.wcard[data-index="' + def.widgets.indexOf(dragging) + '"]');
      if (again) again.classList.add('dragging');
    }
  });
  document.addEventListener('pointerup', function () {
    if (!dragging) return;
    dragging = null;
    Array.prototype.forEach.call(cards.querySelectorAll('.dragging'), function (c) { c.classList.remove('dragging'); });
  });

  var meta = function () {
    var box = document.getElementById('dash-meta');
    box.textContent = '';
    if (root.dataset['new']) box.appendChild(labelled(t('rep.code'), bind(el('input', { value: def.code, 'data-prop': 'code' }), function (v) { def.code = v; })));
    box.appendChild(labelled(t('rep.name') + ' (中文)', bind(el('input', { value: def.name.zh, 'data-prop': 'name_zh' }), function (v) { def.name.zh = v; })));
    box.appendChild(labelled(t('rep.name') + ' (English)', bind(el('input', { value: def.name.en || '', 'data-prop': 'name_en' }), function (v) { def.name.en = v; })));
  };
  var render = function () {
    cards.textContent = '';
    def.widgets.forEach(function (w, i) { cards.appendChild(card(w, i)); });
  };
  area.addEventListener('change', function () {
    try { def = JSON.parse(area.value); def.widgets = def.widgets || []; def.name = def.name || { zh: '' }; meta(); render(); } catch (e) { /* shown on save */ }
  });
  document.getElementById('add-widget').addEventListener('click', function () {
    var first = (sources[0] || ['metric:ledger'])[0].split(':');
    var w = { title: { zh: t('rep.add_widget'), en: '' }, chart: 'bars' };
    w[first[0] === 'report' ? 'report' : 'metric'] = first.slice(1).join(':');
    def.widgets.push(w);
    sync(); render();
    var last = cards.lastElementChild;
    if (last) { last.scrollIntoView({ block: 'nearest' }); var k = last.querySelector('[data-prop=title_zh]'); if (k) k.focus(); }
  });
  document.getElementById('dashboard-form').addEventListener('submit', sync);
  meta(); render(); sync();
})();
