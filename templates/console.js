// The organizer console's only script (the pages' CSP allows no inline
// one). Every page works without it; with it, the numbers stay live and
// the check-in desk ticks without a reload.
'use strict';
(function () {
  var POLL_MS = 1000;

  // Put the counts of one event's JSON into the elements marked for them.
  function fill(root, ev) {
    var els = root.querySelectorAll('[data-count]');
    for (var i = 0; i < els.length; i++) {
      var k = els[i].getAttribute('data-count');
      var v = ev[k];
      els[i].textContent = v === null || v === undefined ? '\u221e' : String(v);
    }
  }

  function getJSON(url) {
    return fetch(url, { headers: { Accept: 'application/json' }, credentials: 'same-origin' })
      .then(function (r) { if (!r.ok) throw new Error(String(r.status)); return r.json(); });
  }

  // The overview: every event's counts, every POLL_MS.
  function pollOverview() {
    getJSON('/console/overview.json').then(function (d) {
      d.events.forEach(function (ev) {
        var el = document.querySelector('.console-event[data-event="' + ev.id + '"]');
        if (el) fill(el, ev);
      });
    }).catch(function () { /* keep the numbers shown */ })
      .then(function () { setTimeout(pollOverview, POLL_MS); });
  }

  // The desk: the counts, the gates and who is in, every POLL_MS.
  function renderGates(gates) {
    var ul = document.getElementById('gates');
    if (!ul) return;
    while (ul.firstChild) ul.removeChild(ul.firstChild);
    gates.forEach(function (g) {
      var li = document.createElement('li');
      li.textContent = g.gate + ': ' + g.n;
      ul.appendChild(li);
    });
  }

  function pollDesk(line) {
    var id = line.getAttribute('data-event');
    getJSON('/console/events/' + id + '/checkin.json' + location.search).then(function (d) {
      fill(line, d.event);
      renderGates(d.gates);
    }).catch(function () { /* keep what is shown */ })
      .then(function () { setTimeout(function () { pollDesk(line); }, POLL_MS); });
  }

  // Tick without a reload: post the same form, asking for JSON.
  function tick(ev) {
    var form = ev.target;
    if (!form.classList || !form.classList.contains('tick')) return;
    ev.preventDefault();
    var button = form.querySelector('button');
    button.disabled = true;
    fetch(form.action, {
      method: 'POST', credentials: 'same-origin',
      headers: { Accept: 'application/json', 'Content-Type': 'application/x-www-form-urlencoded' },
      body: new URLSearchParams(new FormData(form)).toString(),
    }).then(function (r) { return r.json(); }).then(function (d) {
      var cell = form.parentNode;
      var span = document.createElement('span');
      span.className = d.result === 'admitted' ? 'status-confirmed' : 'status-waitlisted';
      span.setAttribute('role', 'status');
      span.textContent = (document.documentElement.lang === 'zh-CN'
        ? { admitted: '已签到', already_checked_in: '此前已签到' }
        : { admitted: 'Checked in', already_checked_in: 'Already checked in' })[d.result] || d.result;
      cell.replaceChild(span, form);
    }).catch(function () { form.submit(); });
  }

  document.addEventListener('DOMContentLoaded', function () {
    if (document.querySelector('.console-event')) setTimeout(pollOverview, POLL_MS);
    var line = document.querySelector('.counts-line[data-event]');
    if (line && document.querySelector('table.desk')) setTimeout(function () { pollDesk(line); }, POLL_MS);
    document.addEventListener('submit', tick);
  });
}());
