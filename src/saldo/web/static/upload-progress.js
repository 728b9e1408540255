// The upload page's progress bar: asks how far the check has come once a second, and shows the
// result page when it is done. Without this script the page's link shows the latest progress.
(function () {
  "use strict";
  var box = document.getElementById("upload-progress");
  if (!box) { return; }
  var bar = document.getElementById("upload-bar");
  var count = document.getElementById("upload-count");
  function poll() {
    fetch(box.dataset.progress, { credentials: "same-origin", headers: { Accept: "application/json" } })
      .then(function (response) { return response.ok ? response.json() : null; })
      .then(function (progress) {
        if (!progress) { return; }
        if (progress.state !== "checking") { window.location.reload(); return; }
        if (progress.percent !== null) { bar.value = progress.percent; bar.textContent = progress.percent + " %"; }
        count.textContent = progress.message;
        window.setTimeout(poll, 1000);
      })
      .catch(function () { window.setTimeout(poll, 3000); });
  }
  window.setTimeout(poll, 1000);
})();
