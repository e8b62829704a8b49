// The opportunities board (看板): drag a card to another column (HTML5 drag and drop), or use the
// card's "Move to…" (keyboard, phone). Either posts the stage to /opportunities/{id}/stage through
// htmx and swaps in the columns the server answers, refusals included (404, 422 …: they carry
// the board with the translated reason on top). A lost stage asks for the reason first.
// No inline handlers (the Content-Security-Policy refuses them): everything is attached here.
(function () {
  "use strict";
  var phone = window.matchMedia("(max-width: 767.98px)");
  var dragged = null;
  var collapsed = {};  // stage id -> collapsed, as the user left it (kept across swaps)

  function board() { return document.getElementById("opportunity-board"); }
  function moveDialog() { return document.getElementById("board-move-dialog"); }
  function moveForm() { return document.getElementById("board-move-form"); }
  function closest(target, selector) { return target && target.closest ? target.closest(selector) : null; }

  function post(url, values, stageId) {
    var element = board();
    if (!element || !url) { return; }
    if (stageId) { collapsed[stageId] = false; }  // show where the card landed
    element.classList.add("is-busy");
    htmx.ajax("POST", url, {source: element, target: "#opportunity-board", swap: "outerHTML", values: values});
  }

  function refused() {
    var element = board();
    var alerts = document.getElementById("board-alerts");
    if (!element || !alerts) { return; }
    element.classList.remove("is-busy");
    var alert = document.createElement("div");
    alert.className = "alert alert-danger py-2";
    alert.setAttribute("role", "alert");
    alert.id = "board-error";
    alert.textContent = element.getAttribute("data-refused");
    alerts.replaceChildren(alert);
  }

  // ---- the "Move to…" dialog (also the lost reason after a drop on a lost column)
  function syncReason() {
    var form = moveForm();
    var option = form.elements.stage_id.selectedOptions[0];
    var lost = !!option && option.getAttribute("data-kind") === "lost";
    document.getElementById("board-move-reason").hidden = !lost;
    form.elements.lost_reason.required = lost;
  }

  function openMove(card, stageId) {
    var form = moveForm();
    var dialog = moveDialog();
    if (!form || !dialog || !card) { return; }
    var select = form.elements.stage_id;
    var current = card.getAttribute("data-stage-id");
    var options = Array.prototype.slice.call(select.options);
    var at = options.findIndex(function (option) { return option.value === current; });
    options.forEach(function (option) { option.disabled = option.value === current; });
    var next = options[at + 1] && !options[at + 1].disabled ? options[at + 1] : options.find(function (o) { return !o.disabled; });
    select.value = stageId || (next ? next.value : "");
    form.action = card.getAttribute("data-move-url");
    form.elements.lost_reason.value = "";
    document.getElementById("board-move-card").textContent = card.getAttribute("data-title");
    syncReason();
    dialog.showModal();
    (stageId && !document.getElementById("board-move-reason").hidden ? form.elements.lost_reason : select).focus();
  }

  document.addEventListener("change", function (event) {
    if (event.target && event.target.id === "board-move-stage") { syncReason(); }
    if (closest(event.target, "[data-board-autosubmit]")) { event.target.form.requestSubmit(); }
  });

  document.addEventListener("submit", function (event) {
    var form = event.target;
    if (form.id !== "board-move-form" || typeof htmx === "undefined") { return; }  // else: a plain POST
    event.preventDefault();
    var values = {};
    new FormData(form).forEach(function (value, key) { values[key] = value; });
    moveDialog().close();
    post(form.action, values, values.stage_id);
  });

  document.addEventListener("click", function (event) {
    var toggle = closest(event.target, "[data-board-toggle]");
    if (toggle && phone.matches) {
      var column = toggle.closest(".board-column");
      var now = column.classList.toggle("is-collapsed");
      toggle.setAttribute("aria-expanded", String(!now));
      collapsed[column.getAttribute("data-stage-id")] = now;
    }
    var move = closest(event.target, "[data-board-move]");
    if (move) { openMove(move.closest(".board-card")); }
    if (closest(event.target, "[data-board-cancel]")) { moveDialog().close(); }  // nothing moved
  });

  // ---- drag and drop (desktop)
  function columnOf(target) { return closest(target, ".board-column"); }
  function clearMarks() {
    document.querySelectorAll(".board-column.is-drop-target").forEach(function (c) { c.classList.remove("is-drop-target"); });
  }
  function accepts(column) {
    return dragged && column && column.getAttribute("data-stage-id") !== dragged.getAttribute("data-stage-id");
  }

  document.addEventListener("dragstart", function (event) {
    var card = closest(event.target, ".board-card[draggable=true]");
    if (!card) { return; }
    dragged = card;
    event.dataTransfer.effectAllowed = "move";
    event.dataTransfer.setData("text/plain", card.getAttribute("data-id"));
    card.classList.add("is-dragging");
  });
  document.addEventListener("dragend", function () {
    if (dragged) { dragged.classList.remove("is-dragging"); }
    dragged = null;
    clearMarks();
  });
  document.addEventListener("dragover", function (event) {
    var column = columnOf(event.target);
    if (!accepts(column)) { return; }
    event.preventDefault();
    event.dataTransfer.dropEffect = "move";
    if (!column.classList.contains("is-drop-target")) {
      clearMarks();
      column.classList.add("is-drop-target");
    }
  });
  document.addEventListener("dragleave", function (event) {
    var column = columnOf(event.target);
    if (column && !column.contains(event.relatedTarget)) { column.classList.remove("is-drop-target"); }
  });
  document.addEventListener("drop", function (event) {
    var column = columnOf(event.target);
    if (!accepts(column)) { return; }
    event.preventDefault();
    var card = dragged;
    card.classList.remove("is-dragging");
    dragged = null;
    clearMarks();
    var stageId = column.getAttribute("data-stage-id");
    if (column.getAttribute("data-stage-kind") === "lost") {
      openMove(card, stageId);  // the reason first; cancel leaves the card where it was
      return;
    }
    var next = moveForm() ? moveForm().elements.next.value : window.location.pathname + window.location.search;
    post(card.getAttribute("data-move-url"), {stage_id: stageId, next: next}, stageId);
  });

  // ---- htmx: refusals carry the board too; anything else (403, 500) says the move was refused
  document.addEventListener("htmx:beforeSwap", function (event) {
    var detail = event.detail;
    if (!detail.target || detail.target.id !== "opportunity-board" || detail.xhr.status < 400) { return; }
    if (detail.xhr.status < 500 && detail.xhr.responseText.indexOf('id="opportunity-board"') !== -1) {
      detail.shouldSwap = true;
      detail.isError = false;
    } else {
      refused();
    }
  });
  document.addEventListener("htmx:sendError", refused);
  // ---- folding: only on a phone; the user's choices survive the swaps
  function syncColumns() {
    document.querySelectorAll("#opportunity-board .board-column").forEach(function (column) {
      var toggle = column.querySelector("[data-board-toggle]");
      var state = collapsed[column.getAttribute("data-stage-id")];
      if (state !== undefined) {
        column.classList.toggle("is-collapsed", state);
        toggle.setAttribute("aria-expanded", String(!state));
      }
      if (phone.matches) { toggle.removeAttribute("tabindex"); } else { toggle.setAttribute("tabindex", "-1"); }
    });
  }
  document.addEventListener("htmx:afterSettle", syncColumns);
  phone.addEventListener("change", syncColumns);
  syncColumns();
})();
