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
