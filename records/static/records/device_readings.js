/*
 * Readings from bedside monitors, on the session page and the board.
 *
 * The sections marked data-device-readings poll with htmx (a background refresh).
 * This script:
 * - holds a poll back while the nurse is choosing a reason to reject a reading
 *   (an open "Reject…" form, or focus in one of its fields), so the refresh never
 *   takes away what she is doing;
 * - gives the keyboard one key per decision: with focus on a pending reading's
 *   row (its Accept button, its Reject… button), A accepts it and R opens its
 *   reasons; and from anywhere on the session page except a text field, Alt+A
 *   accepts the oldest pending reading (the first row, the one its button's
 *   aria-keyshortcuts names). No accesskey: a browser's own handling of it
 *   would accept a second reading with the same key press;
 * - after an accept or reject, puts focus on the next pending reading's Accept
 *   button (or the section's heading when none is left), so the next decision
 *   is one more key;
 * - keeps the answer to a decision on the screen: a poll in flight when the nurse
 *   decides is aborted, so it cannot put back the section as it was before.
 */
(function () {
  "use strict";

  var decidedHere = false;

  function section(el) {
    return el && el.closest ? el.closest("[data-device-readings]") : null;
  }

  function typing(el) {
    return el && el.matches && el.matches("input:not([type=radio]):not([type=hidden]), select, textarea");
  }

  /* A decision's answer is the section with what was done ("accepted and charted"). A poll sent
   * before it would answer after it with the section as it was, and take that message away: a
   * decision aborts the section's poll in flight, and no poll goes while a decision is on its way. */
  var deciding = 0;

  function isDecision(elt) {
    return !!(elt.matches && !elt.matches("[data-device-readings]") && section(elt));
  }

  document.body.addEventListener("htmx:beforeRequest", function (evt) {
    var elt = evt.detail.elt;
    if (isDecision(elt)) {
      decidedHere = true;
      deciding += 1;
      // Counted down on the request itself: its form is gone from the page once the answer is in.
      evt.detail.xhr.addEventListener("loadend", function () { deciding = Math.max(deciding - 1, 0); });
      window.htmx.trigger(section(elt), "htmx:abort");
      return;
    }
    if (!elt.matches || !elt.matches("[data-device-readings]")) { return; }
    var busy = elt.querySelector("details[open]") || (elt.contains(document.activeElement) && typing(document.activeElement));
    if (busy || deciding) { evt.preventDefault(); }
  });

  document.body.addEventListener("htmx:afterSettle", function (evt) {
    var target = evt.detail.target;
    if (!decidedHere || !target || target.id !== "device-readings") { return; }
    decidedHere = false;
    var current = document.getElementById("device-readings");
    if (!current) { return; }
    // Only if the nurse has not moved on while the answer was on its way (as after a saved reading, vitals.js).
    var here = document.activeElement;
    if (here && here !== document.body && !current.contains(here)) { return; }
    var next = current.querySelector("[data-device-accept]") || current.querySelector("[data-device-reject]");
    (next || current.querySelector("h2")).focus();
  });

  document.addEventListener("keydown", function (evt) {
    if (evt.ctrlKey || evt.metaKey || typing(evt.target)) { return; }
    if (evt.altKey) {
      // Alt+A: accept the oldest pending reading on this page (the first row).
      if (evt.code !== "KeyA" || evt.shiftKey) { return; }
      var oldest = document.querySelector("#device-readings [data-device-accept]");
      if (oldest) { evt.preventDefault(); oldest.focus(); oldest.click(); }
      return;
    }
    if (evt.target.closest && evt.target.closest("details[open]")) { return; }
    var key = (evt.key || "").toLowerCase();
    if (key !== "a" && key !== "r") { return; }
    var row = evt.target.closest ? evt.target.closest("[data-device-reading]") : null;
    if (!row) { return; }
    if (key === "a") {
      var accept = row.querySelector("[data-device-accept]");
      if (accept) { evt.preventDefault(); accept.click(); }
    } else {
      var details = row.querySelector("details");
      if (details) {
        evt.preventDefault();
        details.open = true;
        var first = details.querySelector("input[type=radio]");
        if (first) { first.focus(); }
      }
    }
  });
})();
