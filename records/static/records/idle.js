/*
 * Idle sign-out, on the page's side.
 *
 * The server signs a session out after IDLE_TIMEOUT_SECONDS without a request
 * (records.middleware.IdleTimeoutMiddleware). This script warns a minute
 * before, offers "Stay signed in", and keeps anything typed but not saved in
 * sessionStorage (this tab only) so that it can be put back, and named, after
 * the person logs in again. Nothing is kept once it has been put back, and a
 * deliberate log-out clears it.
 */
(function () {
  "use strict";

  var KEY = "clinic-unsaved";
  var body = document.body;

  function read() {
    try { return JSON.parse(window.sessionStorage.getItem(KEY) || "null"); } catch (e) { return null; }
  }
  function write(value) {
    try { window.sessionStorage.setItem(KEY, JSON.stringify(value)); } catch (e) { /* storage full or off */ }
  }
  function clear() {
    try { window.sessionStorage.removeItem(KEY); } catch (e) { /* ignore */ }
  }

  function labelFor(field) {
    if (field.labels && field.labels.length) {
      return field.labels[0].textContent.replace(/\*/g, "").trim();
    }
    return field.getAttribute("aria-label") || field.name;
  }

  function keepable(field) {
    if (!field.name || field.disabled) { return false; }
    var type = (field.type || "").toLowerCase();
    return ["hidden", "password", "submit", "button", "file", "reset", "image"].indexOf(type) === -1;
  }

  function changed(field) {
    var type = (field.type || "").toLowerCase();
    if (type === "checkbox" || type === "radio") { return field.checked !== field.defaultChecked; }
    if (field.tagName === "SELECT") {
      for (var i = 0; i < field.options.length; i++) {
        if (field.options[i].selected !== field.options[i].defaultSelected) { return true; }
      }
      return false;
    }
    return field.value !== field.defaultValue;
  }

  /* The fields of POST forms on this page whose value differs from what the page was served with. */
  function unsavedEntries(onlyForm) {
    var forms = onlyForm ? [onlyForm] : Array.prototype.slice.call(document.querySelectorAll("form[method=post]"));
    var fields = {};
    var labels = [];
    forms.forEach(function (form) {
      if (form.hasAttribute("data-logout-form") || form.hasAttribute("data-sign-in-form")) { return; }
      Array.prototype.forEach.call(form.elements, function (field) {
        if (!keepable(field) || !changed(field)) { return; }
        var type = (field.type || "").toLowerCase();
        if (type === "checkbox" || type === "radio") {
          fields[field.name + "\u0000" + field.value] = field.checked;
        } else {
          fields[field.name] = field.value;
        }
        var label = labelFor(field);
        if (labels.indexOf(label) === -1) { labels.push(label); }
      });
    });
    return labels.length ? { path: window.location.pathname, fields: fields, labels: labels } : null;
  }

  function restore(saved) {
    var names = Object.keys(saved.fields);
    names.forEach(function (key) {
      var parts = key.split("\u0000");
      var selector = "form[method=post] [name=\"" + parts[0].replace(/"/g, "") + "\"]";
      Array.prototype.forEach.call(document.querySelectorAll(selector), function (field) {
        if (!keepable(field)) { return; }
        if (parts.length === 2) {
          if (field.value === parts[1]) { field.checked = saved.fields[key]; }
        } else {
          field.value = saved.fields[key];
        }
      });
    });
    var box = document.querySelector("[data-unsaved-restored]");
    if (box) {
      box.textContent = "You were signed out before these entries were saved: " + saved.labels.join(", ") +
        ". They have been put back below. Check them, then save.";
      box.hidden = false;
      box.focus();
    }
  }

  /* On arrival: put back what an interrupted submit or a time-out left behind. */
  var saved = read();
  if (saved) {
    if (body.hasAttribute("data-sign-in-step")) {
      // The log-in (or code) page after a time-out: keep the entries for the page that follows.
      saved.interrupted = true;
      write(saved);
      var note = document.querySelector("[data-unsaved-note]");
      if (note) { note.hidden = false; }
    } else if (saved.interrupted && saved.path === window.location.pathname) {
      clear();
      restore(saved);
    } else if (!saved.interrupted) {
      // The submit reached the server: saved, or shown again with its errors.
      clear();
    }
  }

  /* A submit that lands on the log-in page (the session had ended) must not lose its entries. */
  document.addEventListener("submit", function (event) {
    var form = event.target;
    if (form.hasAttribute("data-logout-form")) { clear(); return; }
    if ((form.getAttribute("method") || "").toLowerCase() !== "post" || form.hasAttribute("data-sign-in-form")) { return; }
    var entries = unsavedEntries(form);
    if (entries) { write(entries); }
  }, true);

  var timeout = parseInt(body.getAttribute("data-idle-timeout") || "0", 10);
  if (!timeout) { return; }
  var warning = parseInt(body.getAttribute("data-idle-warning") || "60", 10);
  var keepaliveUrl = body.getAttribute("data-keepalive-url");
  var dialog = document.querySelector("[data-idle-dialog]");
  var countdown = document.querySelector("[data-idle-countdown]");
  var stay = document.querySelector("[data-idle-stay]");
  var deadline = Date.now() + timeout * 1000;
  var asking = false;
  var ticker = null;

  function csrfToken() {
    try { return JSON.parse(body.getAttribute("hx-headers"))["X-CSRFToken"]; } catch (e) { return ""; }
  }

  /* Seconds the server still gives this session (another tab may have kept it alive). 0: it has ended. */
  function askServer(method) {
    var options = { method: method, credentials: "same-origin", redirect: "manual", headers: {} };
    if (method === "POST") {
      options.headers["X-CSRFToken"] = csrfToken();
    } else {
      options.headers["X-Background-Refresh"] = "1";
    }
    return fetch(keepaliveUrl, options)
      .then(function (response) { return response.ok ? response.json() : { remaining: 0 }; })
      .then(function (data) { return data.remaining || 0; })
      .catch(function () { return 0; });
  }

  function signOutNow() {
    window.clearInterval(ticker);
    var entries = unsavedEntries(null);
    if (entries) { entries.interrupted = true; write(entries); }
    window.location.reload();
  }

  function showWarning(show) {
    if (!dialog) { return; }
    var wasHidden = dialog.hidden;
    dialog.hidden = !show;
    if (show && wasHidden && stay) { stay.focus(); }
  }

  function tick() {
    var left = Math.ceil((deadline - Date.now()) / 1000);
    if (countdown) { countdown.textContent = String(Math.max(left, 0)); }
    if (left > warning) { showWarning(false); return; }
    if (asking) { return; }
    if (left <= 0 || (dialog && dialog.hidden)) {
      asking = true;
      askServer("GET").then(function (remaining) {
        asking = false;
        if (remaining <= 0) { signOutNow(); return; }
        deadline = Date.now() + remaining * 1000;
        showWarning(remaining <= warning);
      });
    }
  }

  if (stay) {
    stay.addEventListener("click", function () {
      askServer("POST").then(function (remaining) {
        if (remaining <= 0) { signOutNow(); return; }
        deadline = Date.now() + remaining * 1000;
        showWarning(false);
      });
    });
  }

  // The person's own requests (page loads, htmx requests they trigger) restart the clock;
  // background refreshes (X-Background-Refresh: 1) do not, as on the server.
  document.addEventListener("htmx:afterRequest", function (event) {
    var headers = (event.detail && event.detail.requestConfig && event.detail.requestConfig.headers) || {};
    if (headers["X-Background-Refresh"] !== "1") { deadline = Date.now() + timeout * 1000; }
  });

  ticker = window.setInterval(tick, 1000);
})();
