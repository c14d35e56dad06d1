// Tidewater pipelines: every pipeline a manager runs, its status and last progress,
// refreshed every second.
"use strict";

function fmtNum(n) {
  if (n === null || n === undefined) return "–";
  if (Math.abs(n) >= 1e6) return (n / 1e6).toFixed(2) + " M";
  if (Math.abs(n) >= 1e4) return (n / 1e3).toFixed(1) + " k";
  return Number.isInteger(n) ? String(n) : n.toFixed(1);
}

function cell(text) {
  const td = document.createElement("td");
  td.textContent = text;
  return td;
}

async function refresh() {
  const r = await fetch("/api/jobs");
  const jobs = await r.json();
  const rows = jobs.map((j) => {
    const tr = document.createElement("tr");
    tr.dataset.job = j.name;
    const name = document.createElement("td");
    const a = document.createElement("a");
    a.href = "/?job=" + encodeURIComponent(j.name);
    a.textContent = j.name;
    name.appendChild(a);
    tr.appendChild(name);
    const status = cell(j.error ? `${j.status}: ${j.error}` : j.status);
    status.className = "status-cell " + j.status;
    tr.appendChild(status);
    tr.appendChild(cell(fmtNum(j.source_records)));
    tr.appendChild(cell(fmtNum(j.events_per_sec)));
    tr.appendChild(cell(j.elapsed_s.toFixed(1) + " s"));
    tr.appendChild(cell(j.watermark === null ? "none" : new Date(j.watermark).toISOString()));
    tr.appendChild(cell(fmtNum(j.late_dropped)));
    tr.appendChild(cell(j.progress ? JSON.stringify(j.progress) : "–"));
    return tr;
  });
  document.querySelector("#jobs tbody").replaceChildren(...rows);
}

refresh();
setInterval(refresh, 1000);
