// A running lesson's page brings itself up to date: every few seconds it fetches the same page
// and swaps in its #live part, until the lesson has ended. No framework; same origin only.
(function () {
  "use strict";
  function schedule() {
    var live = document.getElementById("live");
    if (!live || live.dataset.running !== "yes") return;
    var seconds = parseInt(live.dataset.refreshSeconds, 10) || 15;
    window.setTimeout(refresh, seconds * 1000);
  }
  function refresh() {
    fetch(window.location.href, { credentials: "same-origin", headers: { "Accept": "text/html" } })
      .then(function (response) {
        if (!response.ok) throw new Error(String(response.status));
        return response.text();
      })
      .then(function (html) {
        var fresh = new DOMParser().parseFromString(html, "text/html").getElementById("live");
        var live = document.getElementById("live");
        if (fresh && live) {
          var focused = document.activeElement && document.activeElement.id;
          live.replaceWith(fresh);
          if (focused && document.getElementById(focused)) document.getElementById(focused).focus();
        }
      })
      .catch(function () { /* offline for a moment: try again at the next turn */ })
      .then(schedule);
  }
  schedule();
})();
