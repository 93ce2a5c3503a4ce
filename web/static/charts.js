/* The staff charts (ECharts, served from /static/vendor/echarts): each <div data-chart="ID">
   is drawn from the JSON in <script type="application/json" id="ID"> beside it, which the
   server wrote (web/views/staff.py). No inline script: the pages' CSP allows only same-origin
   files. The table under each chart shows the same figures; the chart adds nothing to them. */
(function () {
  "use strict";
  var narrow = function () { return window.innerWidth < 600; };
  var FONT = '"WenQuanYi Micro Hei", "Microsoft YaHei", "PingFang SC", system-ui, sans-serif';
  // Tooltips are HTML: names a clerk or an imported file chose (regions, lots, payees,
  // projects) are escaped with ECharts' own encoder before they go in (red-team, issue 20).
  var esc = function (text) { return echarts.format.encodeHTML(String(text)); };

  function progress(d, el) {
    // one row per county or lot: spent as a share of allocated, with 时序进度 as a line
    el.style.height = Math.max(160, 48 + 34 * d.labels.length) + "px";
    return {
      textStyle: { fontFamily: FONT },
      grid: { left: 8, right: 48, top: 28, bottom: 8, containLabel: true },
      tooltip: { trigger: "axis", axisPointer: { type: "shadow" }, confine: true,
        formatter: function (p) {
          var i = p[0].dataIndex;
          return esc(d.labels[i]) + "<br>" + esc(d.words.progress) + " " + esc(d.percent[i]) +
            "%<br>" + esc(d.words.spent) + " " + esc(d.spent[i]) + "<br>" +
            esc(d.words.allocated) + " " + esc(d.allocated[i]);
        } },
      xAxis: { type: "value", min: 0, max: 100, axisLabel: { formatter: "{value}%" } },
      yAxis: { type: "category", inverse: true, data: d.labels,
        axisLabel: { width: narrow() ? 90 : 200, overflow: "truncate" } },
      series: [{ type: "bar", name: d.words.progress, data: d.percent, barMaxWidth: 22,
        itemStyle: { color: "#1e7b34" },
        label: { show: true, position: "right", formatter: "{c}%" },
        markLine: { symbol: "none", silent: true, lineStyle: { color: "#b3261e", type: "dashed" },
          label: { formatter: d.words.time + " {c}%", position: "start" },
          data: [{ xAxis: d.time_percent }] } }]
    };
  }

  function idle(d, el) {
    el.style.height = Math.max(140, 60 + 34 * d.labels.length) + "px";
    return {
      textStyle: { fontFamily: FONT },
      legend: { top: 0 },
      grid: { left: 8, right: 24, top: 32, bottom: 8, containLabel: true },
      tooltip: { trigger: "axis", axisPointer: { type: "shadow" }, confine: true,
        formatter: function (p) {
          var i = p[0].dataIndex;
          return esc(d.labels[i]) + "<br>" + esc(d.words.one) + " " + esc(d.one_text[i]) +
            "<br>" + esc(d.words.two) + " " + esc(d.two_text[i]);
        } },
      xAxis: { type: "value", axisLabel: { formatter: function (v) {
        return v.toLocaleString("zh-CN"); } } },
      yAxis: { type: "category", inverse: true, data: d.labels,
        axisLabel: { width: narrow() ? 90 : 200, overflow: "truncate" } },
      series: [
        { type: "bar", stack: "idle", name: d.words.one, data: d.one, itemStyle: { color: "#e0a030" } },
        { type: "bar", stack: "idle", name: d.words.two, data: d.two, itemStyle: { color: "#b3261e" } }]
    };
  }

  function sankey(d, el, chart) {
    // as tall as the fullest column needs, so that labels do not overlap
    var columns = {};
    d.nodes.forEach(function (n) { columns[n.depth] = (columns[n.depth] || 0) + 1; });
    var most = Math.max.apply(null, Object.keys(columns).map(function (k) { return columns[k]; }));
    el.style.height = Math.max(320, 40 + most * (narrow() ? 44 : 38)) + "px";
    var titles = {};
    d.nodes.forEach(function (n) { titles[n.name] = n.title; });
    chart.on("click", function (p) {
      if (p.dataType === "node" && p.data.drill) { window.location.href = p.data.drill; }
    });
    return {
      textStyle: { fontFamily: FONT },
      tooltip: { trigger: "item", confine: true, formatter: function (p) {
        if (p.dataType === "edge") { return esc(p.data.text); }
        return esc(p.data.title) + "（" + esc(p.data.kind) + "）<br>" + esc(p.data.text) +
          (p.data.drill ? "<br>" + esc(d.words.drill) : "");
      } },
      series: [{
        type: "sankey", left: 8, right: narrow() ? 96 : 180, top: 8, bottom: 8,
        nodeWidth: narrow() ? 12 : 18, nodeGap: 16, draggable: false,
        layoutIterations: 32, emphasis: { focus: "adjacency" },
        data: d.nodes.map(function (n) {
          return { name: n.name, title: n.title, kind: n.kind, text: n.text, drill: n.drill,
            itemStyle: { color: n.drill ? "#1f5fa8" : (n.name.indexOf("others:") === 0 ? "#9aa3ad" : "#2d8a4e") } };
        }),
        links: d.links,
        lineStyle: { color: "source", opacity: 0.35, curveness: 0.5 },
        label: { fontSize: narrow() ? 11 : 13, width: narrow() ? 90 : 170, overflow: "truncate",
          formatter: function (p) { return titles[p.name] || p.name; } }
      }]
    };
  }

  var KINDS = { progress: progress, idle: idle, sankey: sankey };

  function draw(el) {
    var source = document.getElementById(el.getAttribute("data-chart"));
    if (!source || typeof echarts === "undefined") { return; }
    var d = JSON.parse(source.textContent);
    if (!KINDS[d.kind]) { return; }
    var chart = echarts.init(el, null, { renderer: "canvas" });
    var option = KINDS[d.kind](d, el, chart);
    option.animation = false;   // figures to read, not to watch; and steady screenshots
    chart.setOption(option);
    chart.resize();
    window.addEventListener("resize", function () { chart.resize(); });
  }

  Array.prototype.forEach.call(document.querySelectorAll("[data-chart]"), draw);
}());
