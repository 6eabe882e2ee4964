// Statistics dashboard: let htmx show the "bad date range" message it gets with a 400.
(function () {
  "use strict";
  document.addEventListener("htmx:beforeSwap", function (event) {
    var target = event.detail.target;
    if (event.detail.xhr.status === 400 && target && target.id === "stats-body") {
      event.detail.shouldSwap = true;
      event.detail.isError = false;
    }
  });
})();
