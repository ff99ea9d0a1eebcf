// Keeps checkpoint countdowns ([data-due]) and elapsed times ([data-since]) current between renders.
// Times come from the server with the server's own "now" ([data-now]), so a tablet whose clock is off
// still counts from the server's clock. The text matches records.templatetags.monitoring_tags.
(function () {
  "use strict";
  function minutesText(minutes) {
    if (minutes >= 60) {
      var rest = minutes % 60;
      return Math.floor(minutes / 60) + " h " + (rest < 10 ? "0" : "") + rest + " min";
    }
    return minutes + " min";
  }
  function serverNow(el) {
    if (!el.dataset.skew) {
      el.dataset.skew = String(Date.parse(el.dataset.now) - Date.now());
    }
    return Date.now() + Number(el.dataset.skew);
  }
  function tick() {
    document.querySelectorAll("[data-due][data-now]").forEach(function (el) {
      var seconds = (Date.parse(el.dataset.due) - serverNow(el)) / 1000;
      var text;
      if (seconds > 0) {
        text = "in " + minutesText(Math.ceil(seconds / 60));
      } else if (seconds > -60) {
        text = "due now";
      } else {
        text = "due " + minutesText(Math.floor(-seconds / 60)) + " ago";
      }
      if (el.textContent !== text) el.textContent = text;
    });
    document.querySelectorAll("[data-since][data-now]").forEach(function (el) {
      var minutes = Math.max(0, Math.floor((serverNow(el) - Date.parse(el.dataset.since)) / 60000));
      var text = minutesText(minutes);
      if (el.textContent !== text) el.textContent = text;
    });
  }
  setInterval(tick, 5000);
  document.addEventListener("htmx:afterSwap", tick);
})();
