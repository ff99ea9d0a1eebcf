/*
 * Idle sign-out, on the page's side.
 *
 * The server signs a session out after IDLE_TIMEOUT_SECONDS without a request
 * (records.middleware.IdleTimeoutMiddleware). This script warns a minute
 * before, offers "Stay signed in", and keeps what was typed but not saved in
 * sessionStorage (this tab only) so that it can be put back, and named, after
 * the same person logs in again.
 *
 * What is kept is bound tightly, because a value put back in the wrong place is
 * the page filling in the record:
 * - never a clinical value: no field marked data-no-keep (the forms mark doses,
 *   amounts, rates, order text and vital signs) and, should a mark be missing,
 *   no field whose name says dose, amount or rate;
 * - for one person: the user id of the page it was typed on (data-user on <body>);
 *   anyone else logging in on this tab gets nothing, and it is removed;
 * - for one form: where it posts and the row it is for (its hidden fields, such as
 *   the administration being stopped), on one page; never into a look-alike field;
 * - for a few minutes (KEEP_MINUTES), once: it is removed on the first page after
 *   the log-in, put back or not, and a deliberate log-out removes it.
 */
(function () {
  "use strict";

  var KEY = "clinic-unsaved";
  var KEEP_MINUTES = 10;
  var NEVER_KEPT_NAME = /dose|amount|rate|order_text/i;
  var body = document.body;
  var user = body.getAttribute("data-user") || "";
  var signInStep = body.hasAttribute("data-sign-in-step");

  function read() {
    try { return JSON.parse(window.sessionStorage.getItem(KEY) || "null"); } catch (e) { return null; }
  }
  function write(value) {
    try { window.sessionStorage.setItem(KEY, JSON.stringify(value)); } catch (e) { /* storage full or off */ }
  }
  function clear() {
    try { window.sessionStorage.removeItem(KEY); } catch (e) { /* ignore */ }
  }

  /* A page shown in answer to a POST (a form with its messages) belongs to the page the form was
   * sent from (data-page-url, from the server). Show that address, so that a reload, a sign-out
   * and the log-in after it open the page again with a GET, never the POST-only address (405). */
  var pageUrl = body.getAttribute("data-page-url");
  var here = window.location.pathname + window.location.search;
  if (pageUrl && pageUrl.charAt(0) === "/" && pageUrl !== here && !signInStep && window.history.replaceState) {
    Array.prototype.forEach.call(document.querySelectorAll("form:not([action])"), function (form) {
      form.setAttribute("action", here);  // forms without an action still post where they did
    });
    window.history.replaceState(null, "", pageUrl + window.location.hash);
  }

  function labelFor(field) {
    if (field.labels && field.labels.length) {
      return field.labels[0].textContent.replace(/\*/g, "").trim();
    }
    return field.getAttribute("aria-label") || field.name;
  }

  function keepable(field) {
    if (!field.name || field.disabled) { return false; }
    if (field.hasAttribute("data-no-keep") || NEVER_KEPT_NAME.test(field.name)) { return false; }
    var type = (field.type || "").toLowerCase();
    return ["hidden", "password", "submit", "button", "file", "reset", "image"].indexOf(type) === -1;
  }

  function changed(field) {
    var type = (field.type || "").toLowerCase();
    if (type === "checkbox" || type === "radio") { return field.checked !== field.defaultChecked; }
    if (field.tagName === "SELECT") {
      // With no option marked selected, a list shows its first one: that is not a change.
      var marked = Array.prototype.some.call(field.options, function (option) { return option.defaultSelected; });
      for (var i = 0; i < field.options.length; i++) {
        var initial = marked ? field.options[i].defaultSelected : (i === 0 && !field.multiple);
        if (field.options[i].selected !== initial) { return true; }
      }
      return false;
    }
    return field.value !== field.defaultValue;
  }

  function postForms() {
    return Array.prototype.filter.call(document.querySelectorAll("form"), function (form) {
      return (form.getAttribute("method") || "").toLowerCase() === "post" &&
        !form.hasAttribute("data-logout-form") && !form.hasAttribute("data-sign-in-form");
    });
  }

  /* Which form this is: its id, where it posts, and the row it is for (its hidden fields but the CSRF token). */
  function formKey(form) {
    var action = "";
    try { action = new URL(form.getAttribute("action") || window.location.href, window.location.href).pathname; } catch (e) { /* keep "" */ }
    var row = [];
    Array.prototype.forEach.call(form.elements, function (field) {
      if ((field.type || "").toLowerCase() === "hidden" && field.name && field.name !== "csrfmiddlewaretoken") {
        row.push(field.name + "=" + field.value);
      }
    });
    row.sort();
    return [form.id || "", action, row.join("&")].join("|");
  }

  /* What was typed and not saved in these forms, each form on its own; null when nothing, or nobody to keep it for. */
  function unsavedEntries(forms) {
    if (!user) { return null; }
    var kept = [];
    forms.forEach(function (form) {
      var fields = {};
      var count = 0;
      Array.prototype.forEach.call(form.elements, function (field) {
        if (!keepable(field) || !changed(field)) { return; }
        var type = (field.type || "").toLowerCase();
        if (type === "checkbox" || type === "radio") {
          fields[field.name + "\u0000" + field.value] = field.checked;
        } else {
          fields[field.name] = field.value;
        }
        count += 1;
      });
      if (count) { kept.push({ key: formKey(form), fields: fields }); }
    });
    return kept.length ? { user: user, page: window.location.pathname, savedAt: Date.now(), forms: kept } : null;
  }

  /* Put each kept form's entries back into that same form, if it is on this page once; nothing anywhere else. */
  function restore(saved) {
    var forms = postForms();
    var labels = [];
    saved.forms.forEach(function (entry) {
      var matches = forms.filter(function (form) { return formKey(form) === entry.key; });
      if (matches.length !== 1) { return; }
      var form = matches[0];
      Object.keys(entry.fields).forEach(function (key) {
        var parts = key.split("\u0000");
        Array.prototype.forEach.call(form.elements, function (field) {
          if (field.name !== parts[0] || !keepable(field)) { return; }
          if (parts.length === 2) {
            if (field.value !== parts[1]) { return; }
            field.checked = entry.fields[key] === true;
          } else {
            field.value = String(entry.fields[key]);
          }
          var label = labelFor(field);
          if (labels.indexOf(label) === -1) { labels.push(label); }
        });
      });
    });
    var box = document.querySelector("[data-unsaved-restored]");
    if (box && labels.length) {
      box.textContent = "You were signed out before these entries were saved: " + labels.join(", ") +
        ". They have been put back below. Check them, then save. Doses, amounts, rates and vital signs are " +
        "never kept: enter them again.";
      box.hidden = false;
      box.focus();
    }
  }

  /* On arrival: put back what an interrupted submit or a time-out left behind, for the same person only. */
  var saved = read();
  if (saved) {
    var fresh = typeof saved.savedAt === "number" && Date.now() - saved.savedAt < KEEP_MINUTES * 60 * 1000 &&
      Array.isArray(saved.forms);
    if (!fresh) {
      clear();
    } else if (signInStep) {
      // The log-in (or code) page after a time-out: keep the entries for the page that follows.
      saved.interrupted = true;
      write(saved);
      var note = document.querySelector("[data-unsaved-note]");
      if (note) { note.hidden = false; }
    } else {
      // The first page after: put back (or not), and never keep for a later page.
      clear();
      if (saved.interrupted && user && saved.user === user && saved.page === window.location.pathname) {
        restore(saved);
      }
    }
  }

  /* A submit that lands on the log-in page (the session had ended) must not lose its entries. */
  document.addEventListener("submit", function (event) {
    var form = event.target;
    if (form.hasAttribute("data-logout-form")) { clear(); return; }
    if ((form.getAttribute("method") || "").toLowerCase() !== "post" || form.hasAttribute("data-sign-in-form")) { return; }
    var entries = unsavedEntries([form]);
    if (entries) { write(entries); } else { clear(); }
  }, true);

  /* A form sent with htmx stays on the page: once the server has answered it (saved, or shown again with its
   * messages), its entries are no longer the page's to keep; unless the answer is the way to the log-in. */
  document.addEventListener("htmx:afterRequest", function (event) {
    var xhr = event.detail && event.detail.xhr;
    var source = event.detail && event.detail.elt;
    if (!xhr || !xhr.status || !source || source.tagName !== "FORM" || xhr.getResponseHeader("HX-Redirect")) { return; }
    clear();
  });

  /* Set once the page is on its way to the log-in page: it goes there once. */
  var leaving = false;

  /* The server may end the session first: the first request after its time-out (a section the page polls, or
   * any htmx request) is answered with the way to the log-in, which htmx follows before anything else
   * (HX-Redirect). The page's unsaved entries are kept then, as when the page's own timer signs out. */
  document.addEventListener("htmx:beforeOnLoad", function (event) {
    var xhr = event.detail && event.detail.xhr;
    var target = xhr && xhr.getResponseHeader("HX-Redirect");
    var loginUrl = body.getAttribute("data-login-url");
    if (!target || !loginUrl) { return; }
    try { target = new URL(target, window.location.href).pathname; } catch (e) { return; }
    if (target !== loginUrl) { return; }
    // Already on the way to the log-in (the page's timer, or another answer like this one): a second
    // navigation would open the log-in page twice, and the second has lost the "signed out" message.
    if (leaving) { event.preventDefault(); return; }
    leaving = true;
    var entries = unsavedEntries(postForms());
    if (entries) { entries.interrupted = true; write(entries); }
  });

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
    if (leaving) { return; }
    leaving = true;
    window.clearInterval(ticker);
    var entries = unsavedEntries(postForms());
    if (entries) { entries.interrupted = true; write(entries); } else { clear(); }
    // A GET of this page: the server answers with the log-in page, and comes back here after it.
    window.location.replace(window.location.pathname + window.location.search);
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
