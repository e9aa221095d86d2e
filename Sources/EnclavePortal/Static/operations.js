// Live progress of operations on workspace, service and operation pages.
//
// Each running operation on the page carries data-poll (its JSON API URL, read with the session cookie).
// About once a second this script reads those that are still running and updates their status, message
// and steps in place (inside an aria-live region); when one finishes it reloads the page's live sections
// (data-live) from the server, so services, user resources and power states show their new state. It
// stops when nothing is running. Without JavaScript the page shows the state when it was loaded and a
// Refresh link.
(function () {
  'use strict';
  var INTERVAL_MS = 1000;
  var timer = null;

  // "status:class" pairs rendered by the server (ok, busy, bad): busy means still running.
  function statusClasses() {
    var map = {};
    var holder = document.querySelector('[data-status-classes]');
    (holder ? holder.getAttribute('data-status-classes') : '').split(' ').forEach(function (pair) {
      var parts = pair.split(':');
      if (parts.length === 2) { map[parts[0]] = parts[1]; }
    });
    return map;
  }

  function words(status) { return String(status || '').replace(/_/g, ' '); }

  function setBadge(badge, status, classes) {
    if (!badge) { return; }
    badge.textContent = words(status);
    badge.className = 'badge status-' + (classes[status] || 'neutral');
  }

  function setStepMessage(item, message) {
    var span = item.querySelector('.step-message');
    if (!message) { if (span) { span.remove(); } return; }
    if (!span) {
      span = document.createElement('span');
      span.className = 'step-message';
      item.appendChild(document.createTextNode(' '));
      item.appendChild(span);
    }
    span.textContent = message;
  }

  function newStepItem(step, classes) {
    var item = document.createElement('li');
    var title = document.createElement('span');
    title.className = 'step-title';
    title.textContent = step.stepTitle || '';
    var target = document.createElement('span');
    target.className = 'step-target';
    target.textContent = '(' + (step.resourceAction || '') + ' ' + (step.resourceTemplateName || '') + ')';
    var badge = document.createElement('span');
    item.appendChild(title);
    item.appendChild(document.createTextNode(' '));
    item.appendChild(target);
    item.appendChild(document.createTextNode(' '));
    item.appendChild(badge);
    setBadge(badge, step.status, classes);
    setStepMessage(item, step.message);
    return item;
  }

  function update(element, op, classes) {
    element.setAttribute('data-status', op.status);
    setBadge(element.querySelector('[data-field="status"]'), op.status, classes);
    var message = element.querySelector('[data-field="message"]');
    if (message) { message.textContent = op.message || ''; }
    var list = element.querySelector('[data-field="steps"]');
    if (!list || !Array.isArray(op.steps)) { return; }
    var items = list.querySelectorAll('li');
    if (items.length === op.steps.length) {
      // Keep the names the server rendered; only statuses and messages change while an operation runs.
      op.steps.forEach(function (step, index) {
        setBadge(items[index].querySelector('.badge'), step.status, classes);
        setStepMessage(items[index], step.message);
      });
    } else {
      while (list.firstChild) { list.removeChild(list.firstChild); }
      op.steps.forEach(function (step) { list.appendChild(newStepItem(step, classes)); });
    }
  }

  function hideRefreshHints() {
    document.querySelectorAll('[data-refresh-hint]').forEach(function (hint) { hint.hidden = true; });
  }

  function showRefreshHints() {
    document.querySelectorAll('[data-refresh-hint]').forEach(function (hint) { hint.hidden = false; });
  }

  // Replaces every data-live section with the server's current rendering of it.
  function refreshSections() {
    return fetch(window.location.href, { credentials: 'same-origin', cache: 'no-store', headers: { Accept: 'text/html' } })
      .then(function (response) { return response.ok ? response.text() : null; })
      .then(function (html) {
        if (html === null) { return; }
        var fresh = new DOMParser().parseFromString(html, 'text/html');
        document.querySelectorAll('[data-live][id]').forEach(function (section) {
          var replacement = fresh.getElementById(section.id);
          if (replacement) { section.replaceWith(document.importNode(replacement, true)); }
        });
        hideRefreshHints();
      })
      .catch(function () { /* the next finished operation tries again */ });
  }

  function poll() {
    timer = null;
    var running = Array.prototype.slice.call(document.querySelectorAll('[data-poll]'));
    if (running.length === 0) { return; }
    var classes = statusClasses();
    var finished = false;
    Promise.all(running.map(function (element) {
      return fetch(element.getAttribute('data-poll'), { credentials: 'same-origin', cache: 'no-store', headers: { Accept: 'application/json' } })
        .then(function (response) {
          if (response.status === 404) { element.removeAttribute('data-poll'); finished = true; return null; }
          // Signed out or no longer allowed: stop asking; the page keeps what it knew and offers Refresh again.
          if (!response.ok) { element.removeAttribute('data-poll'); showRefreshHints(); return null; }
          return response.json();
        })
        .then(function (body) {
          var op = body && body.operation;
          if (!op) { return; }
          update(element, op, classes);
          if (classes[op.status] !== 'busy') { element.removeAttribute('data-poll'); finished = true; }
        })
        .catch(function () { /* a network hiccup: the next round asks again */ });
    })).then(function () {
      return finished ? refreshSections() : null;
    }).then(schedule);
  }

  function schedule() {
    if (timer !== null || !document.querySelector('[data-poll]')) { return; }
    if (document.hidden) { return; } // resumed by visibilitychange
    timer = window.setTimeout(poll, INTERVAL_MS);
  }

  document.addEventListener('visibilitychange', function () { if (!document.hidden) { schedule(); } });
  if (document.querySelector('[data-poll]')) { hideRefreshHints(); }
  schedule();
}());
