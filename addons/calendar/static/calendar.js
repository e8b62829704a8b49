// The week, month and day views: FullCalendar (vendored) fed by /calendar/events.json. It runs in
// UTC mode and is given the reader's wall times (the server converts), so no time-zone plugin is
// needed and a drop sends back the wall times it shows. A drop or resize posts the new times to
// the item's move URL; a refusal puts the event back and shows the server's translated reason.
// Clicking an empty slot opens the form for it. No inline handlers (the CSP refuses them).
(function () {
  "use strict";
  var element = document.getElementById("calendar");
  if (!element || !window.FullCalendar) { return; }
  var data = element.dataset;
  var phone = window.matchMedia("(max-width: 767.98px)").matches;

  function csrf() {
    try { return JSON.parse(document.body.getAttribute("hx-headers"))["X-CSRF-Token"]; } catch (e) { return ""; }
  }

  function wall(date) {  // a Date in UTC mode as the naive ISO text of the wall time it shows
    return date ? date.toISOString().slice(0, 19) : null;
  }

  function alertBox(message) {
    var box = document.getElementById("calendar-alerts");
    var alert = document.createElement("div");
    alert.className = "alert alert-danger py-2";
    alert.setAttribute("role", "alert");
    alert.textContent = message;
    box.replaceChildren(alert);
  }

  function moved(info) {
    var event = info.event;
    var body = {start: wall(event.start), end: wall(event.end), allDay: event.allDay,
                key: event.extendedProps.key || ""};
    fetch(event.extendedProps.moveUrl, {
      method: "POST", credentials: "same-origin",
      headers: {"Content-Type": "application/json", "X-CSRF-Token": csrf(), "Accept": "application/json"},
      body: JSON.stringify(body)
    }).then(function (response) {
      return response.json().catch(function () { return {ok: false}; }).then(function (answer) {
        if (!response.ok || !answer.ok) {
          info.revert();
          alertBox(answer.message || data.refused);
        } else {
          calendar.refetchEvents();  // a moved occurrence of a series is its own item now
        }
      });
    }).catch(function () { info.revert(); alertBox(data.refused); });
  }

  var calendar = new FullCalendar.Calendar(element, {
    timeZone: "UTC",
    now: data.now,
    locale: data.locale,
    initialView: phone && data.initialView === "timeGridWeek" ? "timeGridDay" : data.initialView,
    initialDate: data.initialDate,
    headerToolbar: phone ? {left: "prev,next today", center: "", right: "title"}
                         : {left: "prev,next today", center: "title", right: "dayGridMonth,timeGridWeek,timeGridDay,listWeek"},
    height: "auto",
    firstDay: 1,
    nowIndicator: true,
    slotMinTime: "06:00:00",
    slotMaxTime: "23:00:00",
    scrollTime: "08:00:00",
    eventTimeFormat: {hour: "2-digit", minute: "2-digit", hour12: false},
    slotLabelFormat: {hour: "2-digit", minute: "2-digit", hour12: false},
    events: {url: data.eventsUrl, failure: function () { alertBox(data.refused); }},
    selectable: !!data.newUrl,
    selectMirror: true,
    select: function (info) {
      var query = new URLSearchParams({start: wall(info.start), end: wall(info.end), all_day: info.allDay ? "1" : "0"});
      window.location.href = data.newUrl + "?" + query.toString();
    },
    eventDrop: moved,
    eventResize: moved
  });
  calendar.render();
})();
