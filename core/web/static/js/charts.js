// ECharts for dashboard cards and panels: <div data-chart="{…option JSON…}"> is drawn here, so
// pages need no inline script (the Content-Security-Policy refuses those). Loaded after
// echarts.min.js by pages that have charts (a DashboardWidget with charts=True).
(function () {
  "use strict";
  var charts = [];
  function draw(root) {
    if (typeof window.echarts === "undefined") {
      return;
    }
    root.querySelectorAll("[data-chart]:not([data-chart-drawn])").forEach(function (element) {
      var option;
      try {
        option = JSON.parse(element.getAttribute("data-chart"));
      } catch (error) {
        return;
      }
      var chart = window.echarts.init(element, null, { renderer: "svg" });
      chart.setOption(option);
      element.setAttribute("data-chart-drawn", "");
      charts.push(chart);
    });
  }
  document.addEventListener("DOMContentLoaded", function () { draw(document); });
  document.addEventListener("htmx:afterSwap", function (event) { draw(event.target); });
  window.addEventListener("resize", function () {
    charts.forEach(function (chart) { chart.resize(); });
  });
})();
