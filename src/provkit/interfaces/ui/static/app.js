// provkit ui: light progressive enhancement. Every page works without this file.
"use strict";
(function () {
  // Copy buttons next to the Python / CLI lines
  document.querySelectorAll(".copyline").forEach(function (line) {
    var code = line.querySelector("code");
    if (!code || !navigator.clipboard) return;
    var button = document.createElement("button");
    button.type = "button";
    button.textContent = "copy";
    button.addEventListener("click", function () {
      navigator.clipboard.writeText(code.textContent).then(function () {
        button.textContent = "copied";
        setTimeout(function () { button.textContent = "copy"; }, 1500);
      });
    });
    line.appendChild(button);
  });

  // Sortable tables: click a header to sort the rows shown (numbers as numbers)
  document.querySelectorAll("table.sortable").forEach(function (table) {
    var heads = table.querySelectorAll("thead th");
    heads.forEach(function (th, index) {
      th.addEventListener("click", function () {
        var body = table.tBodies[0];
        var ascending = !th.classList.contains("asc");
        heads.forEach(function (h) { h.classList.remove("asc", "desc"); });
        th.classList.add(ascending ? "asc" : "desc");
        var rows = Array.prototype.slice.call(body.rows);
        var key = function (row) {
          var cell = row.cells[index];
          if (!cell) return "";
          var raw = cell.getAttribute("data-sort") || cell.textContent.trim();
          var num = Number(raw);
          return raw !== "" && !isNaN(num) ? num : raw.toLowerCase();
        };
        rows.sort(function (a, b) {
          var x = key(a), y = key(b);
          var order = typeof x === typeof y ? (x < y ? -1 : x > y ? 1 : 0) : (typeof x === "number" ? -1 : 1);
          return ascending ? order : -order;
        });
        rows.forEach(function (row) { body.appendChild(row); });
      });
    });
  });

  // Lineage picture: zoom in, out, fit
  var graph = document.getElementById("graph");
  var svg = graph && graph.querySelector("svg");
  if (svg) {
    var width = parseFloat(svg.getAttribute("width")) || svg.getBBox().width;
    var height = parseFloat(svg.getAttribute("height")) || svg.getBBox().height;
    var scale = 1;
    var apply = function () {
      svg.setAttribute("width", (width * scale) + "pt");
      svg.setAttribute("height", (height * scale) + "pt");
    };
    document.querySelectorAll("[data-zoom]").forEach(function (button) {
      button.addEventListener("click", function () {
        var factor = parseFloat(button.getAttribute("data-zoom"));
        scale = factor === 0 ? Math.min(1, graph.clientWidth / (width * 1.334)) : scale * factor;
        apply();
      });
    });
    if (width * 1.334 > graph.clientWidth) { scale = Math.max(0.35, graph.clientWidth / (width * 1.334)); apply(); }
  }
})();
