// The scan station. A keyboard-wedge scanner types a code and Enter into the focused scan field; the phone's
// camera decodes with the browser's BarcodeDetector or, where there is none, the vendored ZXing. Each scan
// is sent with an id made here and retried with the same id until the server answers, one at a time and in
// order, so nothing is recorded twice or out of order.
(function () {
  'use strict';
  var root = document.getElementById('station');
  if (!root) return;
  var code = root.dataset.code;
  var texts = {};
  try { texts = JSON.parse(root.dataset.texts || '{}'); } catch (e) { texts = {}; }
  var t = function (key, values) {
    var s = texts[key] || key;
    Object.keys(values || {}).forEach(function (k) { s = s.split('{' + k + '}').join(values[k]); });
    return s;
  };
  var $ = function (id) { return document.getElementById(id); };
  var scan = $('scan');
  var storeKey = 'suyuan.station.' + code;
  var state = { operator: null, order: null };
  try { state = JSON.parse(sessionStorage.getItem(storeKey)) || state; } catch (e) { /* a fresh start */ }
  var save = function () { try { sessionStorage.setItem(storeKey, JSON.stringify(state)); } catch (e) { /* private mode */ } };

  var newId = function () {
    if (window.crypto && crypto.randomUUID) return crypto.randomUUID();
    return 'scan-' + Date.now().toString(36) + '-' + Math.random().toString(36).slice(2, 10);
  };

  // Sound: a short high tone for done, two low buzzes for refused.
  var audio = null;
  var beep = function (ok) {
    try {
      audio = audio || new (window.AudioContext || window.webkitAudioContext)();
      var tones = ok ? [[880, 0, 0.12]] : [[220, 0, 0.18], [220, 0.25, 0.18]];
      tones.forEach(function (tone) {
        var o = audio.createOscillator(), g = audio.createGain();
        o.type = ok ? 'sine' : 'square';
        o.frequency.value = tone[0];
        g.gain.value = 0.15;
        o.connect(g); g.connect(audio.destination);
        o.start(audio.currentTime + tone[1]);
        o.stop(audio.currentTime + tone[1] + tone[2]);
      });
    } catch (e) { /* no audio: the colour still tells */ }
  };

  var prompt = function () {
    if (!state.operator) return t('station.prompt_badge');
    if (!state.order) return t('station.prompt_order');
    return t('station.prompt_material');
  };

  var show = function (kind, title, detail) {
    var f = $('feedback');
    f.className = 'feedback ' + kind;
    $('feedback-title').textContent = title;
    $('feedback-detail').textContent = detail || '';
    var li = document.createElement('li');
    li.className = kind;
    var time = new Date().toLocaleTimeString(document.documentElement.lang || undefined);
    li.textContent = time + '  ' + title + (detail ? ' — ' + detail : '');
    var log = $('log');
    log.insertBefore(li, log.firstChild);
    while (log.children.length > 30) log.removeChild(log.lastChild);
  };

  var paint = function () {
    $('operator').textContent = state.operator ? state.operator.name + ' (' + state.operator.badge + ')' : '—';
    $('slot-operator').classList.toggle('set', !!state.operator);
    $('slot-order').classList.toggle('set', !!state.order);
    var p = $('order-progress');
    if (state.order) {
      $('order').textContent = state.order.number;
      $('order-detail').textContent = t('station.order_detail', {
        lot: state.order.lot, output: state.order.output, planned: state.order.planned });
      p.hidden = false; p.max = state.order.planned || 1; p.value = state.order.output || 0;
    } else {
      $('order').textContent = '—'; $('order-detail').textContent = ''; p.hidden = true;
    }
  };

  var done = function (r) {
    switch (r.kind) {
      case 'operator':
        state.operator = { badge: r.badge, name: r.name };
        return t('station.ok_operator', { name: r.name });
      case 'work_order':
        state.order = { id: r.id, number: r.number, lot: r.lot, planned: r.planned, output: r.output };
        return t('station.ok_order', { order: r.number, lot: r.lot });
      case 'consumed':
        return t('station.ok_consumed', { lot: r.lot, quantity: r.quantity, unit: r.unit });
      case 'produced':
        if (state.order) state.order.output = (state.order.output || 0) + r.quantity;
        return t('station.ok_produced', { quantity: r.quantity, lot: r.lot });
      default:
        return t('station.ok');
    }
  };

  // One scan at a time, in order; a scan that got no answer is sent again with the same id.
  var queue = [];
  var busy = false;
  var pending = $('pending');
  var send = function (item, attempt) {
    var body = JSON.stringify({ id: item.id, code: item.code, operator: state.operator && state.operator.badge,
      work_order: state.order && state.order.id, quantity: item.quantity });
    return fetch('/api/v1/stations/' + encodeURIComponent(code) + '/scans', {
      method: 'POST', credentials: 'same-origin',
      headers: { 'Content-Type': 'application/json', Accept: 'application/json', 'X-CSRF-Token': root.dataset.csrf },
      body: body
    }).then(function (resp) {
      return resp.json().catch(function () { return {}; }).then(function (j) { return { status: resp.status, body: j }; });
    }).then(function (a) {
      if (a.status >= 500 || a.status === 429) throw new Error('retry');
      return a;
    }).catch(function () {
      var wait = Math.min(8000, 400 * Math.pow(2, attempt));
      pending.hidden = false;
      pending.textContent = t('station.retrying', { n: attempt + 1 });
      return new Promise(function (resolve) { setTimeout(resolve, wait); }).then(function () { return send(item, attempt + 1); });
    });
  };
  var pump = function () {
    if (busy || !queue.length) return;
    busy = true;
    var item = queue.shift();
    send(item, 0).then(function (a) {
      pending.hidden = true;
      if (a.status === 200) {
        show('ok', done(a.body), item.code);
        beep(true);
        save(); paint();
        $('quantity').value = '';
      } else if (a.body && a.body.refusal) {
        show('bad', t('refusal.' + a.body.refusal.code, a.body.refusal), item.code);
        beep(false);
      } else {
        var why = a.body && a.body.errors && a.body.errors[0] ? a.body.errors[0].detail : (a.body && a.body.detail) || a.status;
        show('bad', t('station.invalid'), String(why));
        beep(false);
      }
    }).finally(function () {
      busy = false;
      pump();
    });
  };
  var submit = function (text) {
    var value = (text || '').replace(/[\r\n]+$/, '').trim();
    if (!value) return;
    var q = parseFloat($('quantity').value);
    queue.push({ id: newId(), code: value, quantity: isFinite(q) && q > 0 ? q : undefined });
    pump();
  };

  $('scan-form').addEventListener('submit', function (e) {
    e.preventDefault();
    submit(scan.value);
    scan.value = '';
    scan.focus();
  });
  $('reset').addEventListener('click', function () {
    state = { operator: null, order: null }; save(); paint();
    show('idle', prompt(), '');
    scan.focus();
  });
  // Nothing to touch: the scan field takes the focus back whenever no other field has it.
  document.addEventListener('click', function (e) {
    var tag = e.target && e.target.tagName;
    if (tag !== 'INPUT' && tag !== 'SELECT' && tag !== 'BUTTON' && tag !== 'TEXTAREA') scan.focus();
  });
  scan.addEventListener('blur', function () {
    setTimeout(function () {
      var a = document.activeElement;
      if (!a || a === document.body) scan.focus();
    }, 200);
  });

  // Camera.
  var stream = null, timer = null, reader = null, last = { code: '', at: 0 };
  var seen = function (text) {
    var now = Date.now();
    if (text === last.code && now - last.at < 2500) return;
    last = { code: text, at: now };
    submit(text);
  };
  var stopCamera = function () {
    if (timer) clearInterval(timer);
    timer = null;
    if (reader) { try { reader.reset(); } catch (e) { /* already stopped */ } reader = null; }
    if (stream) stream.getTracks().forEach(function (tr) { tr.stop(); });
    stream = null;
    $('camera').hidden = true;
  };
  var withZxing = function (video) {
    var start = function () {
      reader = new window.ZXing.BrowserMultiFormatReader();
      reader.decodeFromVideoDevice(null, video, function (result) { if (result) seen(result.getText()); });
    };
    if (window.ZXing) return start();
    var s = document.createElement('script');
    s.src = root.dataset.zxing;
    s.onload = start;
    s.onerror = function () { $('camera-note').textContent = t('station.camera_failed'); };
    document.head.appendChild(s);
  };
  $('camera-toggle').addEventListener('click', function () {
    if (stream || reader) { stopCamera(); return; }
    var video = $('camera-video');
    $('camera').hidden = false;
    if (!navigator.mediaDevices || !navigator.mediaDevices.getUserMedia) {
      $('camera-note').textContent = t('station.camera_failed');
      return;
    }
    if ('BarcodeDetector' in window) {
      navigator.mediaDevices.getUserMedia({ video: { facingMode: 'environment' } }).then(function (s) {
        stream = s; video.srcObject = s; video.play();
        var detector = new window.BarcodeDetector();
        $('camera-note').textContent = t('station.camera_on');
        timer = setInterval(function () {
          detector.detect(video).then(function (codes) { if (codes.length) seen(codes[0].rawValue); }).catch(function () { /* next frame */ });
        }, 250);
      }).catch(function () { $('camera-note').textContent = t('station.camera_failed'); });
    } else {
      $('camera-note').textContent = t('station.camera_on');
      withZxing(video);
    }
  });

  // Process parameters typed at the station.
  var pf = $('param-form');
  if (pf) pf.addEventListener('submit', function (e) {
    e.preventDefault();
    var sel = $('param-name');
    var reading = { time: new Date().toISOString(), parameter: sel.value,
      value: parseFloat($('param-value').value), unit: sel.options[sel.selectedIndex].dataset.unit || '' };
    fetch('/api/v1/stations/' + encodeURIComponent(code) + '/parameters', {
      method: 'POST', credentials: 'same-origin',
      headers: { 'Content-Type': 'application/json', Accept: 'application/json', 'X-CSRF-Token': root.dataset.csrf },
      body: JSON.stringify({ line: root.dataset.line, equipment: $('param-equipment').value || 'MANUAL', readings: [reading] })
    }).then(function (r) { return r.json().then(function (j) { return { status: r.status, body: j }; }); })
      .then(function (a) {
        if (a.status !== 200) { show('bad', t('station.invalid'), (a.body && a.body.detail) || ''); beep(false); return; }
        if (a.body.excursions > 0) { show('warn', t('station.param_out', { name: reading.parameter, value: reading.value }), ''); beep(false); }
        else { show('ok', t('station.param_ok', { name: reading.parameter, value: reading.value }), ''); beep(true); }
        $('param-value').value = '';
      }).catch(function () { show('bad', t('station.offline'), ''); });
  });

  paint();
  show('idle', prompt(), '');
  scan.focus();
})();
