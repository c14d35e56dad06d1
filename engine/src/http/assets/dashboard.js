// Tidewater dashboard: the plan graph, charts and tables of one pipeline, updated by
// server-sent events (a sample every 250 ms). No framework; uPlot draws the charts.
"use strict";

const params = new URLSearchParams(location.search);
const jobParam = params.get("job");
const query = jobParam ? "?job=" + encodeURIComponent(jobParam) : "";
const $ = (id) => document.getElementById(id);
const HISTORY = 600;

let plan = null;
const series = { t: [], eps: [], p50: [], p99: [], fired: [], late: [], wm: new Map() };
const charts = {};

function fmtNum(n) {
  if (n === null || n === undefined) return "–";
  const abs = Math.abs(n);
  if (abs >= 1e9) return (n / 1e9).toFixed(2) + " G";
  if (abs >= 1e6) return (n / 1e6).toFixed(2) + " M";
  if (abs >= 1e4) return (n / 1e3).toFixed(1) + " k";
  return Number.isInteger(n) ? String(n) : n.toFixed(1);
}

function fmtTime(ms) {
  if (ms === null || ms === undefined) return "none";
  return new Date(ms).toISOString().replace("T", " ").replace(/\.\d+Z$/, "");
}

function fmtDuration(ms) {
  if (ms === null || ms === undefined) return "–";
  if (Math.abs(ms) >= 86400000) return (ms / 86400000).toFixed(1) + " d";
  if (Math.abs(ms) >= 3600000) return (ms / 3600000).toFixed(1) + " h";
  if (Math.abs(ms) >= 1000) return (ms / 1000).toFixed(1) + " s";
  return ms.toFixed(ms < 10 ? 2 : 0) + " ms";
}

function el(tag, attrs, text) {
  const ns = ["svg", "g", "rect", "text", "path", "title"].includes(tag) ? "http://www.w3.org/2000/svg" : null;
  const e = ns ? document.createElementNS(ns, tag) : document.createElement(tag);
  for (const [k, v] of Object.entries(attrs || {})) e.setAttribute(k, v);
  if (text !== undefined) e.textContent = text;
  return e;
}

const NODE_W = 185, NODE_H = 58, COLUMN = 295;

// Layered layout: a node's column is the longest path from a source to it.
function layout(graph) {
  const column = new Map(graph.nodes.map((n) => [n.id, 0]));
  for (let round = 0; round < graph.nodes.length; round++) {
    let moved = false;
    for (const e of graph.edges) {
      if (column.get(e.to) < column.get(e.from) + 1) { column.set(e.to, column.get(e.from) + 1); moved = true; }
    }
    if (!moved) break;
  }
  const rows = new Map();
  const pos = new Map();
  for (const n of graph.nodes) {
    const c = column.get(n.id);
    const r = rows.get(c) || 0;
    rows.set(c, r + 1);
    pos.set(n.id, { x: 20 + c * COLUMN, y: 34 + r * 95 });
  }
  return pos;
}



function drawPlan(graph) {
  const pos = layout(graph);
  const width = Math.max(...[...pos.values()].map((p) => p.x)) + NODE_W + 40;
  const height = Math.max(...[...pos.values()].map((p) => p.y)) + NODE_H + 30;
  const svg = el("svg", { width, height, viewBox: `0 0 ${width} ${height}`, role: "img", "aria-label": "physical plan" });
  for (const e of graph.edges) {
    const a = pos.get(e.from), b = pos.get(e.to);
    const x1 = a.x + NODE_W, y1 = a.y + NODE_H / 2, x2 = b.x, y2 = b.y + NODE_H / 2;
    const mid = (x1 + x2) / 2;
    const path = el("path", {
      d: `M${x1},${y1} C${mid},${y1} ${mid},${y2} ${x2},${y2}`,
      class: "edge " + e.partitioning,
      id: `edge-${e.from}-${e.to}`,
      "data-from": e.from, "data-to": e.to,
    });
    path.appendChild(el("title", {}, e.partitioning));
    svg.appendChild(path);
    svg.appendChild(el("text", { x: mid, y: (y1 + y2) / 2 - 7, "text-anchor": "middle", class: "edge-label", id: `edge-label-${e.from}-${e.to}` }, e.partitioning));
  }
  for (const n of graph.nodes) {
    const p = pos.get(n.id);
    const g = el("g", { class: "node " + n.kind, id: `node-${n.id}`, "data-node": n.name, transform: `translate(${p.x},${p.y})` });
    g.appendChild(el("rect", { width: NODE_W, height: NODE_H, rx: 6 }));
    g.appendChild(el("text", { x: 10, y: 20 }, n.name));
    g.appendChild(el("text", { x: 10, y: 38, class: "stats", id: `node-stats-${n.id}` }, n.kind));
    g.appendChild(el("text", { x: 10, y: 52, class: "stats", id: `node-wm-${n.id}` }, ""));
    svg.appendChild(g);
  }
  $("plan").replaceChildren(svg);
}

function updatePlan(sample) {
  if (!plan) return;
  const ops = new Map(sample.operators.map((o) => [o.id, o]));
  for (const n of plan.nodes) {
    const o = ops.get(n.id);
    const stats = $(`node-stats-${n.id}`);
    if (!o || !stats) continue;
    stats.textContent = `in ${fmtNum(o.records_in)} · out ${fmtNum(o.records_out)} · ${fmtNum(o.out_per_sec)}/s`;
    $(`node-wm-${n.id}`).textContent = o.watermark !== null ? "wm " + fmtTime(o.watermark) : (o.idle ? "idle" : "");
  }
  for (const e of plan.edges) {
    const from = ops.get(e.from), to = ops.get(e.to);
    const label = $(`edge-label-${e.from}-${e.to}`);
    if (!label || !from || !to) continue;
    const side = e.partitioning === "late" || e.partitioning === "dead_letters";
    const rate = side ? to.in_per_sec : from.out_per_sec;
    let text = `${fmtNum(rate)}/s ${e.partitioning}`;
    if (e.partitioning === "hash" || e.partitioning === "hash_partials") {
      const bp = to.backpressure_share;
      text += ` · bp ${(bp * 100).toFixed(0)}%`;
      const edge = $(`edge-${e.from}-${e.to}`);
      edge.style.stroke = bp > 0.5 ? "#e05a4f" : bp > 0.1 ? "#e0a84f" : "";
      edge.style.strokeWidth = String(2 + 4 * bp);
    }
    label.textContent = text;
  }
}

function chart(id, title, names, yFormat) {
  const target = $(id);
  const opts = {
    title, width: Math.max(480, target.clientWidth - 10), height: 220,
    scales: { x: { time: true } },
    series: [{}].concat(names.map((name, i) => ({
      label: name, stroke: ["#4fb3d9", "#e0a84f", "#a98be0", "#6cc489", "#d96a6a", "#7fc4c4"][i % 6], width: 1.5,
      value: (u, v) => (v === null || v === undefined ? "–" : yFormat(v)),
    }))),
    axes: [{ stroke: "#8aa0b4", grid: { stroke: "#263442" } },
           { stroke: "#8aa0b4", grid: { stroke: "#263442" }, size: 90, values: (u, vals) => vals.map(yFormat) }],
  };
  const data = [[]].concat(names.map(() => []));
  return new uPlot(opts, data, target);
}

function wmNodes() {
  return plan ? plan.nodes.filter((n) => n.kind === "source" || n.kind === "watermark" || n.kind === "window") : [];
}

function makeCharts() {
  charts.throughput = chart("chart-throughput", "source events/s", ["events/s"], fmtNum);
  charts.watermarks = chart("chart-watermarks", "watermark per input and window (event time)",
    wmNodes().map((n) => n.name), (v) => fmtTime(v * 1000).replace("T", " ").replace("Z", ""));
  charts.latency = chart("chart-latency", "end-to-end latency (ms)", ["p50", "p99"], (v) => v.toFixed(2));
  charts.windows = chart("chart-windows", "results emitted and late records (total)", ["window results", "late"], fmtNum);
}

function push(arr, v) { arr.push(v); if (arr.length > HISTORY) arr.shift(); }

function record(sample) {
  push(series.t, sample.t / 1000);
  push(series.eps, sample.events_per_sec);
  push(series.p50, sample.latency.count ? sample.latency.p50_ms : null);
  push(series.p99, sample.latency.count ? sample.latency.p99_ms : null);
  const windows = sample.operators.filter((o) => o.kind === "window");
  push(series.fired, windows.reduce((s, o) => s + o.records_out, 0));
  push(series.late, sample.late_dropped);
  for (const n of wmNodes()) {
    if (!series.wm.has(n.id)) series.wm.set(n.id, []);
    const o = sample.operators.find((x) => x.id === n.id);
    push(series.wm.get(n.id), o && o.watermark !== null ? o.watermark / 1000 : null);
  }
}

function redrawCharts() {
  if (!charts.throughput) return;
  charts.throughput.setData([series.t, series.eps]);
  charts.watermarks.setData([series.t].concat(wmNodes().map((n) => series.wm.get(n.id) || [])));
  charts.latency.setData([series.t, series.p50, series.p99]);
  charts.windows.setData([series.t, series.fired, series.late]);
}

function row(cells) {
  const tr = el("tr");
  for (const c of cells) tr.appendChild(el("td", {}, c));
  return tr;
}

function updateTables(sample) {
  $("operators").tBodies[0].replaceChildren(...sample.operators.map((o) => {
    const tr = row([o.name, o.kind, fmtNum(o.records_in), fmtNum(o.records_out), fmtNum(o.in_per_sec), fmtNum(o.out_per_sec),
      o.watermark !== null ? fmtTime(o.watermark) : (o.idle ? "idle" : "none"), fmtDuration(o.watermark_lag_ms),
      fmtNum(o.late_dropped - o.late_side_output), fmtNum(o.late_side_output),
      o.kind === "window" || o.kind === "operator" ? (o.backpressure_share * 100).toFixed(0) + "% (" + fmtDuration(o.backpressure_ms) + ")" : "–"]);
    tr.dataset.node = o.name;
    return tr;
  }));
  $("sources").tBodies[0].replaceChildren(...sample.operators.filter((o) => o.kind === "source").map((o) =>
    row([o.name, fmtNum(o.records_out), fmtNum(o.out_per_sec), o.watermark !== null ? fmtTime(o.watermark) : "none",
      o.idle ? "idle" : sample.status === "Running" ? "reading" : "done"])));
  $("partitions").tBodies[0].replaceChildren(...sample.partitions.map((p) =>
    row([`${p.node} ${p.topic}[${p.partition}]`, fmtNum(p.lag)])));
  const cp = sample.checkpoints;
  const body = $("checkpoints").tBodies[0];
  if (!cp) { body.replaceChildren(row(["checkpointing off"])); return; }
  body.replaceChildren(
    row(["completed", fmtNum(cp.completed)]), row(["failed", fmtNum(cp.failed)]),
    row(["last id", cp.last_id === null ? "–" : String(cp.last_id)]),
    row(["last duration", fmtDuration(cp.last_duration_ms)]),
    row(["duration p50 / p99 / max", `${fmtDuration(cp.p50_ms)} / ${fmtDuration(cp.p99_ms)} / ${fmtDuration(cp.max_ms)}`]),
    row(["last size", fmtNum(cp.last_size_bytes) + "B"]), row(["all sizes", fmtNum(cp.total_size_bytes) + "B"]),
    row(["restored from", cp.restored_from === null ? "fresh start" : String(cp.restored_from)]));
}

function updateSummary(sample) {
  $("job-name").textContent = sample.job;
  const status = $("status");
  status.textContent = sample.status;
  status.className = "status " + sample.status;
  $("events-per-sec").textContent = fmtNum(sample.events_per_sec);
  $("source-records").textContent = fmtNum(sample.source_records);
  $("elapsed").textContent = sample.elapsed_s.toFixed(1) + " s";
  $("watermark").textContent = fmtTime(sample.watermark);
  $("latency").textContent = sample.latency.count
    ? `${sample.latency.p50_ms.toFixed(2)} / ${sample.latency.p99_ms.toFixed(2)} ms` : "–";
  $("late").textContent = fmtNum(sample.late_dropped);
  $("dead-letters").textContent = fmtNum(sample.dead_letters);
  const error = $("error");
  error.hidden = !sample.error;
  error.textContent = sample.error || "";
}

function onSample(sample) {
  record(sample);
  updateSummary(sample);
  updatePlan(sample);
  updateTables(sample);
  redrawCharts();
}

async function loadFirings() {
  const r = await fetch("/api/firings" + (query ? query + "&" : "?") + "limit=30");
  if (!r.ok) return;
  const body = await r.json();
  $("explain-hint").textContent = body.explains
    ? "Pick a window that fired, or type a key and a window start."
    : "This run does not record explanations: start it with Config::with_explain(true), or tidewater run --explain KEY@START.";
  $("firings").replaceChildren(...body.firings.map((f) => {
    const b = el("button", { type: "button", class: "firing" },
      `${f.operator} key ${f.key} [${fmtTime(f.window_start)}, ${fmtTime(f.window_end)})`);
    b.addEventListener("click", () => {
      let key = f.key;
      try { const v = JSON.parse(f.key); if (typeof v === "string") key = v; } catch (_) { /* keep the text */ }
      $("explain-key").value = key;
      $("explain-start").value = String(f.window_start);
      explain();
    });
    const li = el("li");
    li.appendChild(b);
    return li;
  }));
}

async function explain(event) {
  if (event) event.preventDefault();
  const p = new URLSearchParams({ key: $("explain-key").value, window_start: $("explain-start").value });
  if (jobParam) p.set("job", jobParam);
  const r = await fetch("/api/explain?" + p);
  const body = await r.json();
  const out = $("explain-result");
  if (!r.ok) { out.textContent = body.error; return; }
  out.textContent = body.explanations.length
    ? body.explanations.map((e) => e.text).join("\n")
    : (body.explains ? "No window operator saw this key with a window starting there." : "Explanations are off for this run.");
}

async function start() {
  plan = await (await fetch("/api/plan" + query)).json();
  $("parallelism").textContent = String(plan.parallelism);
  drawPlan(plan);
  makeCharts();
  const history = await (await fetch("/api/history" + query)).json();
  for (const s of history) record(s);
  if (history.length) onSample(history[history.length - 1]);
  const events = new EventSource("/api/events" + query);
  events.addEventListener("sample", (e) => onSample(JSON.parse(e.data)));
  $("explain-form").addEventListener("submit", explain);
  loadFirings();
  setInterval(loadFirings, 2000);
}

start().catch((e) => { $("error").hidden = false; $("error").textContent = "dashboard: " + e; });
