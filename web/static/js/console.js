/* Suyuan console: dashboard widgets, the trace explorer's graph and scanner input. No framework; ECharts
   (vendored) draws. Everything the user reads comes from the page (data-* attributes) or the server, already
   in the reader's language. */
(function () {
  'use strict';
  var PALETTE = ['#0b6e4f', '#1d6fd1', '#c2410c', '#6d4bc4', '#a16207', '#0e7490', '#b91c1c', '#4d7c0f', '#64748b', '#be185d'];

  function esc(s) {
    return String(s == null ? '' : s).replace(/[&<>"']/g, function (c) {
      return { '&': '&amp;', '<': '&lt;', '>': '&gt;', '"': '&quot;', "'": '&#39;' }[c];
    });
  }
  function fill(tpl, ctx) {
    return tpl.replace(/\{(\w+)\}/g, function (_, k) { return encodeURIComponent(ctx[k] == null ? '' : ctx[k]); });
  }
  function num(n) { return Number(n).toLocaleString(); }

  // ---- Dashboard -------------------------------------------------------------------------------------
  function dashboard(root) {
    var d = root.dataset;
    var widgets = Array.prototype.slice.call(root.querySelectorAll('.widget'));
    var charts = {};

    function option(kind, f) {
      var cats = f.categories.map(function (c) { return c.name; });
      var base = { color: PALETTE, animation: false, tooltip: { trigger: kind === 'pie' ? 'item' : 'axis', confine: true } };
      if (kind === 'pie') {
        var s = f.series[0] || { values: [] };
        base.legend = { type: 'scroll', bottom: 0 };
        base.series = [{ type: 'pie', radius: ['38%', '66%'], center: ['50%', '44%'], avoidLabelOverlap: true,
          label: { formatter: '{b}: {c}' }, minShowLabelAngle: 10,
          data: f.categories.map(function (c, i) { return { name: c.name, value: s.values[i], key: c.key }; }) }];
        return base;
      }
      if (kind === 'bars') {
        base.grid = { left: 8, right: 24, top: 8, bottom: 8, containLabel: true };
        base.xAxis = { type: 'value' };
        base.yAxis = { type: 'category', data: cats, inverse: true, axisLabel: { width: 150, overflow: 'truncate' } };
        base.series = f.series.map(function (s) { return { type: 'bar', name: s.name, data: s.values, barMaxWidth: 22 }; });
        return base;
      }
      base.grid = { left: 8, right: 16, top: 36, bottom: 8, containLabel: true };
      base.legend = { type: 'scroll', top: 0 };
      base.xAxis = { type: 'category', data: cats };
      base.yAxis = { type: 'value', minInterval: 1 };
      base.series = f.series.map(function (s) {
        return kind === 'line'
          ? { type: 'line', name: s.name, data: s.values, smooth: true, areaStyle: { opacity: 0.15 }, symbolSize: 5 }
          : { type: 'bar', name: s.name, stack: 'all', data: s.values, barMaxWidth: 28 };
      });
      return base;
    }

    function rows(w, f) {
      var box = w.querySelector('.rows');
      if (!f.rows.length) { box.innerHTML = '<p class="empty">' + esc(d.empty) + '</p>'; return; }
      var drill = w.dataset.drill;
      box.innerHTML = '<table><tbody>' + f.rows.map(function (r) {
        var href = drill ? fill(drill, { key: r.key, from: f.from, to: f.to }) : '';
        var name = href ? '<a href="' + esc(href) + '">' + esc(r.name) + '</a>' : esc(r.name);
        return '<tr><td>' + name + (r.detail ? '<span class="sub">' + esc(r.detail) + '</span>' : '') +
          '</td><td class="num">' + num(r.value) + '</td></tr>';
      }).join('') + '</tbody></table>';
    }

    function draw(w, f) {
      var kind = w.dataset.chart;
      w.querySelector('.total').textContent = num(f.total);
      w.dataset.points = String(kind === 'rows' ? f.rows.length :
        f.series.reduce(function (n, s) { return n + s.values.filter(function (v) { return v > 0; }).length; }, 0));
      if (kind === 'rows') { rows(w, f); w.dataset.state = 'ready'; return; }
      var el = w.querySelector('.chart');
      if (!f.categories.length) {
        if (charts[w.dataset.metric]) { charts[w.dataset.metric].dispose(); delete charts[w.dataset.metric]; }
        el.innerHTML = '<p class="empty">' + esc(d.empty) + '</p>';
        w.dataset.state = 'ready';
        return;
      }
      var chart = charts[w.dataset.metric];
      if (!chart) {
        el.innerHTML = '';
        chart = charts[w.dataset.metric] = echarts.init(el, null, { renderer: 'canvas' });
        chart.on('click', function (p) {
          var drill = w.dataset.drill;
          var f2 = chart.__figure;
          if (!drill || !f2) return;
          var cat = f2.categories[p.dataIndex] || {};
          var series = f2.series[p.seriesIndex] || {};
          window.location.href = fill(drill, { key: cat.key, series: series.key, from: f2.from, to: f2.to });
        });
      }
      chart.__figure = f;
      chart.setOption(option(kind, f), true);
      w.dataset.state = 'ready';
    }

    function load(w) {
      var url = '/api/v1/dashboard/' + encodeURIComponent(w.dataset.metric) + '?from=' + encodeURIComponent(d.from) +
        '&to=' + encodeURIComponent(d.to) + '&lang=' + encodeURIComponent(d.lang);
      return fetch(url, { credentials: 'same-origin', headers: { Accept: 'application/json' } })
        .then(function (r) { if (!r.ok) { throw new Error('HTTP ' + r.status); } return r.json(); })
        .then(function (f) { draw(w, f); })
        .catch(function () {
          w.dataset.state = 'failed';
          var box = w.querySelector('.chart, .rows');
          if (!charts[w.dataset.metric]) box.innerHTML = '<p class="error">' + esc(d.failed) + '</p>';
        });
    }

    function refresh() {
      Promise.all(widgets.map(load)).then(function () {
        var el = document.getElementById('refreshed');
        if (el) el.textContent = d.refreshed + ' ' + new Date().toLocaleTimeString();
      });
    }
    refresh();
    setInterval(function () { if (!document.hidden) refresh(); }, 30000);
    window.addEventListener('resize', function () { Object.keys(charts).forEach(function (k) { charts[k].resize(); }); });
  }

  window.Suyuan = window.Suyuan || {};
  window.Suyuan.esc = esc;
  window.Suyuan.fill = fill;
  window.Suyuan.PALETTE = PALETTE;

  document.addEventListener('DOMContentLoaded', function () {
    var dash = document.getElementById('dashboard');
    if (dash) dashboard(dash);
    if (window.Suyuan.explorer) window.Suyuan.explorer();
  });
})();
