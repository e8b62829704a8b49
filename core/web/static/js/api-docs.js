// /api/docs: fetch the OpenAPI document with this browser's session and hand it to the
// vendored Redoc. A file, not an inline script: the Content-Security-Policy refuses those.
(function () {
  "use strict";
  var element = document.getElementById("api-docs");
  if (!element || !window.Redoc) {
    return;
  }
  element.textContent = element.getAttribute("data-loading");
  fetch(element.getAttribute("data-spec-url"), {credentials: "same-origin", headers: {Accept: "application/json"}})
    .then(function (response) {
      if (!response.ok) {
        throw new Error(response.status);
      }
      return response.json();
    })
    .then(function (spec) {
      element.textContent = "";
      window.Redoc.init(spec, {hideDownloadButton: false, expandResponses: "200,201"}, element);
    })
    .catch(function () {
      element.textContent = element.getAttribute("data-failed");
    });
})();
