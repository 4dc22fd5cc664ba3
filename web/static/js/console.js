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

    var w0 = null;
    function option(kind, f) {
      var cats = f.categories.map(function (c) { return c.name; });
      var base = { color: PALETTE, animation: false, tooltip: { trigger: kind === 'pie' ? 'item' : 'axis', confine: true } };
      if (kind === 'gauge') {
        var max = parseFloat(w0.dataset.max) || 100;
        base.series = [{ type: 'gauge', min: 0, max: max, progress: { show: true, width: 14 }, axisLine: { lineStyle: { width: 14 } },
          detail: { valueAnimation: false, fontSize: 24, formatter: function (v) { return num(v); } },
          data: [{ value: f.total, name: '' }] }];
        return base;
      }
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
        base.xAxis = { type: 'value', axisLabel: { hideOverlap: true }, splitNumber: 3 };
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
          '</td><td class="num">' + (typeof r.value === 'string' ? esc(r.value) : num(r.value)) + '</td></tr>';
      }).join('') + '</tbody></table>';
    }

    function draw(w, f) {
      var kind = w.dataset.chart;
      w.querySelector('.total').textContent = num(f.total);
      w.dataset.points = String(kind === 'rows' ? f.rows.length :
        f.series.reduce(function (n, s) { return n + s.values.filter(function (v) { return v > 0; }).length; }, 0));
      if (kind === 'rows') { rows(w, f); w.dataset.state = 'ready'; return; }
      if (kind === 'number') {
        w.querySelector('.number').innerHTML = '<p class="big">' + esc(num(f.total)) + '</p>';
        w.dataset.state = 'ready';
        return;
      }
      w0 = w;
      var el = w.querySelector('.chart');
      if (!f.categories.length) {
        if (charts[w.dataset.key]) { charts[w.dataset.key].dispose(); delete charts[w.dataset.key]; }
        el.innerHTML = '<p class="empty">' + esc(d.empty) + '</p>';
        w.dataset.state = 'ready';
        return;
      }
      var chart = charts[w.dataset.key];
      if (!chart) {
        el.innerHTML = '';
        chart = charts[w.dataset.key] = echarts.init(el, null, { renderer: 'canvas' });
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
      var url = (w.dataset.url || '/api/v1/dashboard/' + encodeURIComponent(w.dataset.metric)) + '?from=' + encodeURIComponent(d.from) +
        '&to=' + encodeURIComponent(d.to) + '&lang=' + encodeURIComponent(d.lang);
      return fetch(url, { credentials: 'same-origin', headers: { Accept: 'application/json' } })
        .then(function (r) { if (!r.ok) { throw new Error('HTTP ' + r.status); } return r.json(); })
        .then(function (f) { draw(w, f); })
        .catch(function () {
          w.dataset.state = 'failed';
          var box = w.querySelector('.chart, .rows, .number');
          if (!charts[w.dataset.key]) box.innerHTML = '<p class="error">' + esc(d.failed) + '</p>';
        });
    }

    function refresh() {
      Promise.all(widgets.map(load)).then(function () {
        var el = document.getElementById('refreshed');
        if (el) el.textContent = d.refreshed + ' ' + new Date().toLocaleTimeString(d.lang, { hour12: false });
      });
    }
    refresh();
    setInterval(function () { if (!document.hidden) refresh(); }, 30000);
    window.addEventListener('resize', function () { Object.keys(charts).forEach(function (k) { charts[k].resize(); }); });
  }


  // ---- Trace explorer: the clustered genealogy graph ------------------------------------------------
  var CLASS_COLOURS = { unit: '#0b6e4f', 'case': '#1d6fd1', pallet: '#0e7490', lot: '#6d4bc4', supplier_lot: '#a16207',
    operation: '#64748b', party: '#c2410c', place: '#be185d', other: '#94a3b8' };
  var STATUS_BORDERS = { on_hold: ['#a11d1d', 4, 'solid'], non_conformant: ['#a11d1d', 4, 'solid'],
    recalled: ['#a11d1d', 5, 'solid'], sold: ['#17202e', 2, 'solid'], in_transit: ['#1d6fd1', 3, 'dashed'], ok: ['#ffffff', 1, 'solid'] };

  function explorer() {
    var el = document.getElementById('graph');
    if (!el) return;
    var d = el.dataset;
    var chart = echarts.init(el, null, { renderer: 'canvas' });
    var nodes = {};      // id -> node (with .level relative to the start, .addedBy)
    var order = [];
    var edges = [];
    var panel = document.getElementById('node-panel');

    function url(id, levels, dir) {
      return '/api/v1/graph?id=' + encodeURIComponent(id) + '&dir=' + dir + '&levels=' + levels + '&lang=' + d.lang;
    }
    // Origins to the left of the start (negative levels), what became of it to the right.
    function merge(g, base, by, sign) {
      g.nodes.forEach(function (n) {
        if (nodes[n.id]) return;
        n.level = base + sign * n.level;
        n.addedBy = by;
        nodes[n.id] = n;
        order.push(n.id);
      });
      g.edges.forEach(function (e) {
        if (!edges.some(function (x) { return x.source === e.source && x.target === e.target; })) edges.push(e);
      });
    }
    // Levels run top to bottom (origins above, what became of it below), siblings across; two invisible
    // corner points pin the view to the box so that nothing is scaled down to a thread.
    var ROW = 84;
    function layout() {
      var levels = {};
      order.forEach(function (id) { var n = nodes[id]; (levels[n.level] = levels[n.level] || []).push(n); });
      var keys = Object.keys(levels).map(Number).sort(function (a, b) { return a - b; });
      var height = Math.max(420, keys.length * ROW + 40);
      el.style.height = height + 'px';
      chart.resize();
      var width = Math.max(320, el.clientWidth - 200);
      keys.forEach(function (l, row) {
        var list = levels[l];
        list.forEach(function (n, i) {
          n.x = width * (i + 1) / (list.length + 1);
          n.y = 30 + row * ROW;
          n.labelWidth = Math.max(60, Math.min(180, width / (list.length + 1) - 28));
        });
      });
      return { width: width + 200, height: height };
    }
    function legend() {
      var box = document.getElementById('legend');
      if (!box) return;
      var seen = {};
      order.forEach(function (id) { seen[nodes[id].class] = nodes[id].kind; });
      box.innerHTML = Object.keys(seen).map(function (c) {
        return '<span><i class="k-' + esc(c) + '"></i>' + esc(seen[c]) + '</span>';
      }).join('') + (d.legendBad ? '<span><i class="s-bad"></i>' + esc(d.legendBad) + '</span><span><i class="s-transit"></i>' +
        esc(d.legendTransit) + '</span>' : '');
    }
    function draw() {
      var box = layout();
      legend();
      var data = order.map(function (id) {
        var n = nodes[id];
        var b = STATUS_BORDERS[n.status] || STATUS_BORDERS.ok;
        var size = n.count > 1 ? Math.min(46, 24 + 4 * Math.log10(n.count + 1) * 2) : (n.class === 'party' ? 20 : 18);
        return { id: id, name: id, x: n.x, y: n.y, symbolSize: size,
          symbol: n.count > 1 ? 'roundRect' : (n.class === 'operation' ? 'diamond' : 'circle'),
          itemStyle: { color: CLASS_COLOURS[n.class] || '#94a3b8', borderColor: b[0], borderWidth: b[1], borderType: b[2] },
          label: { show: true, position: 'right', formatter: n.label + (n.more ? ' …' : ''), width: n.labelWidth, overflow: 'truncate', fontSize: 12 },
          tooltip: { formatter: esc(n.kind) + '<br>' + esc(n.label) + (n.product ? '<br>' + esc(n.product) : '') + (n.statusName ? '<br>' + esc(n.statusName) : '') } };
      });
      data.push({ id: '__tl', name: '__tl', x: 0, y: 0, symbolSize: 0, label: { show: false }, tooltip: { show: false }, silent: true },
        { id: '__br', name: '__br', x: box.width, y: box.height, symbolSize: 0, label: { show: false }, tooltip: { show: false }, silent: true });
      chart.setOption({
        animation: false,
        tooltip: { confine: true },
        series: [{ type: 'graph', layout: 'none', roam: true, data: data, left: 0, top: 0, right: 0, bottom: 0, edgeSymbol: ['none', 'arrow'], edgeSymbolSize: 7,
          links: edges.map(function (e) {
            return { source: e.source, target: e.target, lineStyle: { type: e.relation === 'contain' || e.relation === 'holds' ? 'dashed' : 'solid', color: '#9aa6b8', width: 1.4 } };
          }),
          emphasis: { focus: 'adjacency' }, label: { color: '#17202e' } }]
      }, true);
      el.dataset.nodes = String(order.length);
      el.dataset.state = 'ready';
    }
    function fetchGraph(id, levels, dir) {
      return fetch(url(id, levels, dir), { credentials: 'same-origin', headers: { Accept: 'application/json' } })
        .then(function (r) { if (!r.ok) throw new Error('HTTP ' + r.status); return r.json(); });
    }
    function load(id, levels, base, by, dirs) {
      return Promise.all(dirs.map(function (dir) { return fetchGraph(id, levels, dir); }))
        .then(function (gs) {
          gs.forEach(function (g, i) { merge(g, base, by, dirs[i] === 'forward' ? 1 : -1); });
          draw();
        });
    }
    function dirsOf(n) {
      if (d.dir !== 'both') return [d.dir];
      return n.level > 0 ? ['forward'] : n.level < 0 ? ['backward'] : ['backward', 'forward'];
    }
    function collapse(id) {
      var gone = order.filter(function (x) { return nodes[x].addedBy === id; });
      gone.forEach(collapse);
      order = order.filter(function (x) { return gone.indexOf(x) < 0; });
      gone.forEach(function (x) { delete nodes[x]; });
      edges = edges.filter(function (e) { return nodes[e.source] && nodes[e.target]; });
      nodes[id].expanded = false;
      draw();
    }
    function show(n) {
      el.dataset.selected = n.id;
      var head = '<h3>' + esc(n.label) + ' <span class="badge">' + esc(n.kind) + '</span>' +
        (n.statusName ? ' <span class="badge ' + (['on_hold', 'non_conformant', 'recalled'].indexOf(n.status) >= 0 ? 'bad' : 'muted') + '">' + esc(n.statusName) + '</span>' : '') + '</h3>' +
        (n.product ? '<p class="muted">' + esc(n.product) + '</p>' : '');
      var actions = '';
      if (n.class !== 'party' && n.count === 1) {
        actions = n.expanded
          ? '<button type="button" class="secondary" data-act="collapse">' + esc(d.collapse) + '</button> '
          : '<button type="button" class="secondary" data-act="expand">' + esc(d.expand) + '</button> ';
        actions += '<a class="button secondary" href="' + esc(n.href) + '">' + esc(d.open) + '</a>';
      }
      if (n.count > 1) {
        panel.innerHTML = head + '<h4>' + esc(d.members) + '</h4><ul>' + n.sample.map(function (m) {
          return '<li><a class="id" href="/trace?q=' + encodeURIComponent(m) + '&dir=' + d.dir + '">' + esc(m) + '</a></li>';
        }).join('') + '</ul>';
        return;
      }
      panel.innerHTML = head + '<p>' + actions + '</p>';
      bind(n);
      if (n.class === 'party') return;
      fetch('/api/v1/graph/node?id=' + encodeURIComponent(n.id) + '&lang=' + d.lang, { credentials: 'same-origin' })
        .then(function (r) { if (!r.ok) throw new Error('HTTP ' + r.status); return r.json(); })
        .then(function (info) {
          if (el.dataset.selected !== n.id) return;
          panel.innerHTML = head + (info.place ? '<p class="muted">' + esc(info.place) + (info.disposition ? ' · ' + esc(info.disposition) : '') + '</p>' : '') +
            '<p>' + actions + '</p><h4>' + esc(d.latest) + '</h4><div class="table-wrap"><table class="node-events"><tbody>' +
            info.events.map(function (e) {
              return '<tr><td class="time"><a href="' + esc(e.href) + '">' + esc(e.time) + '</a></td><td>' + esc(e.step) +
                (e.disposition ? ' <span class="sub">' + esc(e.disposition) + '</span>' : '') + '</td><td>' + esc(e.place) + '</td></tr>';
            }).join('') + '</tbody></table></div>';
          bind(n);
        })
        .catch(function () { panel.insertAdjacentHTML('beforeend', '<p class="error">' + esc(d.failed) + '</p>'); });
    }
    function bind(n) {
      var b = panel.querySelector('[data-act]');
      if (!b) return;
      b.addEventListener('click', function () {
        if (b.dataset.act === 'expand') {
          n.expanded = true;
          panel.querySelector('[data-act]').disabled = true;
          load(n.id, 3, n.level, n.id, dirsOf(n)).then(function () { show(n); });
        } else {
          collapse(n.id);
          show(n);
        }
      });
    }
    chart.on('click', function (p) { if (p.dataType === 'node' && nodes[p.data.id]) show(nodes[p.data.id]); });
    window.addEventListener('resize', function () { chart.resize(); });
    load(d.id, 8, 0, null, d.dir === 'both' ? ['backward', 'forward'] : [d.dir]).catch(function () {
      el.dataset.state = 'failed';
      el.innerHTML = '<p class="error">' + esc(d.failed) + '</p>';
    });
    window.Suyuan.graph = { chart: chart, nodes: nodes };
  }

  // ---- SPC chart -------------------------------------------------------------------------------------
  // Two grids: the location chart (X̄ or I) above, the spread chart (R or MR) below, each with its control
  // limits as lines; points that break a Western Electric rule are red.
  function spc(root) {
    var data = JSON.parse(document.getElementById('spc-data').textContent);
    var c = data.chart, t = root.dataset;
    var xs = data.labels.map(function (l, i) { return String(i + 1); });
    var limit = function (l) {
      return { silent: true, symbol: 'none', label: { formatter: '{b} {c}', position: 'insideEndTop' },
        data: [{ yAxis: +l.ucl.toFixed(4), name: 'UCL' }, { yAxis: +l.cl.toFixed(4), name: 'CL' }, { yAxis: +l.lcl.toFixed(4), name: 'LCL' }],
        lineStyle: { type: 'dashed', color: '#64748b' } };
    };
    var spread = c.kind === 'i_mr' ? [null].concat(c.ranges) : c.ranges;
    // The axes reach the control limits, which ECharts would otherwise leave off the chart.
    var bounds = function (values, l) {
      var xs2 = values.filter(function (v) { return v != null; }).concat([l.lcl, l.ucl]);
      var lo = Math.min.apply(null, xs2), hi = Math.max.apply(null, xs2), pad = (hi - lo) * 0.08 || 1;
      return { min: +(lo - pad).toFixed(4), max: +(hi + pad).toFixed(4) };
    };
    var locB = bounds(c.points.map(function (p) { return p.value; }), c.location);
    var sprB = bounds(spread, c.spread);
    var chart = echarts.init(root, null, { renderer: 'canvas' });
    chart.setOption({
      animation: false, color: PALETTE,
      tooltip: { trigger: 'axis', confine: true, formatter: function (ps) {
        var i = ps[0].dataIndex;
        return esc(data.labels[i] || '') + '<br>' + ps.map(function (p) { return esc(p.seriesName) + ': ' + (p.value == null ? '–' : p.value); }).join('<br>');
      } },
      grid: [{ left: 56, right: 72, top: 28, height: '48%' }, { left: 56, right: 72, top: '66%', height: '24%' }],
      xAxis: [{ type: 'category', data: xs, gridIndex: 0, axisLabel: { show: false } }, { type: 'category', data: xs, gridIndex: 1 }],
      yAxis: [{ type: 'value', gridIndex: 0, name: t.location, min: locB.min, max: locB.max, axisLabel: { formatter: function (v) { return +v.toFixed(3); } } },
        { type: 'value', gridIndex: 1, name: t.spread, min: Math.max(0, sprB.min), max: sprB.max, axisLabel: { formatter: function (v) { return +v.toFixed(3); } } }],
      series: [
        { name: t.location, type: 'line', xAxisIndex: 0, yAxisIndex: 0, symbolSize: 7,
          data: c.points.map(function (p) { return { value: +p.value.toFixed(4), itemStyle: p.rules.length ? { color: '#b91c1c' } : undefined, symbolSize: p.rules.length ? 11 : 7 }; }),
          markLine: limit(c.location) },
        { name: t.spread, type: 'line', xAxisIndex: 1, yAxisIndex: 1, symbolSize: 5, data: spread.map(function (v) { return v == null ? null : +v.toFixed(4); }),
          markLine: limit(c.spread) }
      ]
    });
    root.dataset.state = 'ready';
    root.dataset.points = String(c.points.length);
    window.addEventListener('resize', function () { chart.resize(); });
  }
  window.Suyuan = window.Suyuan || {};
  window.Suyuan.explorer = explorer;
  window.Suyuan.esc = esc;
  window.Suyuan.fill = fill;
  window.Suyuan.PALETTE = PALETTE;

  document.addEventListener('DOMContentLoaded', function () {
    var dash = document.getElementById('dashboard');
    if (dash) dashboard(dash);
    if (document.getElementById('graph')) window.Suyuan.explorer();
    var spcRoot = document.getElementById('spc');
    if (spcRoot && document.getElementById('spc-data')) spc(spcRoot);
    Array.prototype.forEach.call(document.querySelectorAll('[data-print]'), function (b) {
      b.addEventListener('click', function () { window.print(); });
    });
  });
})();
