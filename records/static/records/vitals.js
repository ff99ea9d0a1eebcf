// The answer to a saved reading puts its row before the one measured after it. When that row is not on this
// page (charted by someone else since the page was loaded), the page's rows are read again, whole, in the
// order measured, so that the new row is never missing from what the nurse sees.
(function () {
  "use strict";
  document.addEventListener("htmx:oobErrorNoTarget", function (evt) {
    var content = evt.detail && evt.detail.content;
    if (!content || !content.hasAttribute || !content.hasAttribute("data-vitals-row")) return;
    if (!document.getElementById("vitals-rows")) return;
    htmx.ajax("GET", window.location.pathname, { target: "#vitals-rows", select: "#vitals-rows", swap: "outerHTML" });
  });
})();

// After a saved reading the entry row takes the focus back, for the next row from the keyboard; but only if the
// focus is still where the nurse left it, in the form the answer replaced. Had she moved on while the answer was
// on its way (to a pause reason, say), her typing would otherwise land in Systolic (an autofocus attribute would
// move the focus whatever it was on: htmx applies it when the answer settles).
(function () {
  "use strict";
  document.addEventListener("htmx:afterSettle", function (evt) {
    var entry = evt.target;
    if (!entry || entry.id !== "vitals-entry") return;
    var next = entry.querySelector("[data-focus-after-save]");
    var here = document.activeElement;
    if (next && (!here || here === document.body || entry.contains(here))) next.focus();
  });
})();
