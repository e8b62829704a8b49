// The item form shows what fits what is being entered: times unless all day, an end and a
// repetition for events only, the repetition's parts once one is chosen. Fields are hidden, not
// removed: the server ignores what does not apply.
(function () {
  "use strict";
  var form = document.getElementById("item-form");
  if (!form) { return; }

  function value(name) {
    var checked = form.querySelector("input[name='" + name + "']:checked");
    if (checked) { return checked.value; }
    var field = form.elements[name];
    return field && field.type !== "radio" ? field.value : "";
  }

  function show(selector, visible) {
    form.querySelectorAll(selector).forEach(function (node) { node.hidden = !visible; });
  }

  function sync() {
    var allDay = form.elements.all_day.checked;
    var event = value("kind") !== "task";
    var freq = value("repeat_freq");
    show(".kehu-timed", !allDay);
    show(".kehu-event-only", event);
    show(".kehu-repeat", event && freq !== "");
    show(".kehu-weekly", event && freq === "WEEKLY");
  }

  form.addEventListener("change", sync);
  sync();
})();
