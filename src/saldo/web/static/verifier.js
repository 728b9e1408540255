// The verifier page while it waits for the wallet: asks every two seconds whether the answer has
// come, and shows it when it has. Without this script the page's link shows the latest state.
(function () {
  "use strict";
  var box = document.getElementById("verifier-waiting");
  if (!box) { return; }
  function poll() {
    fetch(box.dataset.state, { credentials: "same-origin", headers: { Accept: "application/json" } })
      .then(function (response) { return response.ok ? response.json() : null; })
      .then(function (state) {
        if (state && (state.answered || state.expired)) { window.location.reload(); return; }
        window.setTimeout(poll, 2000);
      })
      .catch(function () { window.setTimeout(poll, 4000); });
  }
  window.setTimeout(poll, 2000);
})();
