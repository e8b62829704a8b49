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
  // <select data-op-for="level">: the second value of a filter shows only for "between".
  document.addEventListener("change", function (event) {
    var field = event.target.getAttribute && event.target.getAttribute("data-op-for");
    if (!field) {
      return;
    }
    document.querySelectorAll('[data-between-of="' + field + '"]').forEach(function (element) {
      element.hidden = event.target.value !== "between";
    });
  });
  // <input type="checkbox" data-check-all="ids">: tick or untick every checkbox named "ids".
  document.addEventListener("change", function (event) {
    var name = event.target.getAttribute && event.target.getAttribute("data-check-all");
    if (!name) {
      return;
    }
    document.querySelectorAll('input[type="checkbox"][name="' + name + '"]').forEach(function (box) {
      box.checked = event.target.checked;
    });
  });
  // A list's row action (<a hx-get hx-target="#kehu-row-dialog-body">): its form opens in the dialog.
  document.addEventListener("htmx:afterSwap", function (event) {
    if (!event.target || event.target.id !== "kehu-row-dialog-body") {
      return;
    }
    var dialog = document.getElementById("kehu-row-dialog");
    if (dialog && !dialog.open) {
      dialog.showModal();
    }
  });
})();
