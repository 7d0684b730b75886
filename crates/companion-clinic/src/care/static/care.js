// The care team's pages: local times, and a worklist that follows new alerts without a reload.
// Progressive: without this script every page works, and a reload shows what is new.
(function () {
  'use strict';
  var locale = document.documentElement.lang === 'nb' ? 'nb-NO' : 'en-GB';
  function localTimes(root) {
    root.querySelectorAll('time[data-local]').forEach(function (el) {
      var d = new Date(el.getAttribute('datetime'));
      if (!isNaN(d.getTime())) {
        el.textContent = d.toLocaleString(locale, { dateStyle: 'short', timeStyle: 'short' });
      }
    });
  }
  localTimes(document);
  var list = document.getElementById('worklist');
  if (!list || !window.EventSource || !window.fetch) return;
  var live = document.getElementById('live');
  var busy = false;
  var again = false;
  function refresh(announce) {
    if (busy) { again = true; return; }
    busy = true;
    fetch(list.getAttribute('data-rows'), { credentials: 'same-origin', headers: { Accept: 'text/html' } })
      .then(function (r) {
        if (r.status === 401) { window.location.reload(); return null; }
        return r.ok ? r.text() : null;
      })
      .then(function (html) {
        if (html !== null && html !== undefined) {
          list.innerHTML = html;
          localTimes(list);
          if (announce && live) { live.textContent = live.getAttribute('data-text'); }
        }
      })
      .catch(function () {})
      .then(function () {
        busy = false;
        if (again) { again = false; refresh(announce); }
      });
  }
  var events = new EventSource(list.getAttribute('data-events'));
  events.addEventListener('triage', function () { refresh(true); });
  events.addEventListener('signed-out', function () { events.close(); window.location.reload(); });
  // Time left changes with the clock.
  setInterval(function () { refresh(false); }, 60000);
})();
