// Kehu's own behaviour, kept small: everything else is Bootstrap and htmx.
// Inline handlers are refused by the Content-Security-Policy, so pages declare behaviour with
// data attributes and this file attaches it.
(function () {
  "use strict";
  // <form data-confirm="Really?">: ask before sending (uninstall, delete …).
  document.addEventListener("submit", function (event) {
    var message = event.target.getAttribute("data-confirm");
    if (message && !window.confirm(message)) {
      event.preventDefault();
    }
  }, true);
})();
