/* The consumer page's one optional step: share the phone's city. The position goes to this page's own
   address only; the server keeps the nearest large city and nothing else. */
(function () {
  'use strict';
  var b = document.getElementById('share-place');
  var out = document.getElementById('place-answer');
  if (!b || !out || !navigator.geolocation) { if (b) b.hidden = true; return; }
  b.addEventListener('click', function () {
    b.disabled = true;
    navigator.geolocation.getCurrentPosition(function (p) {
      var body = 'lat=' + encodeURIComponent(p.coords.latitude) + '&lon=' + encodeURIComponent(p.coords.longitude);
      fetch(location.pathname, { method: 'POST', headers: { 'Content-Type': 'application/x-www-form-urlencoded' }, body: body })
        .then(function (r) { return r.json().then(function (j) { return [r.ok, j]; }); })
        .then(function (a) { out.textContent = a[0] ? ' ' + b.dataset.done + ' ' + a[1].city : ' ' + (a[1].detail || b.dataset.failed); })
        .catch(function () { out.textContent = ' ' + b.dataset.failed; b.disabled = false; });
    }, function () { out.textContent = ' ' + b.dataset.failed; b.disabled = false; }, { maximumAge: 600000, timeout: 15000 });
  });
})();
