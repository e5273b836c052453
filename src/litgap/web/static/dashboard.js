// Dashboard: create a job, follow every job live over the socket, find jobs by decision.

import {
  CANCELLABLE,
  STARTABLE,
  api,
  apiJobUrl,
  el,
  events,
  jobUrl,
  me,
  setText,
  shownValue,
  statusBadge,
  timeElement,
  toast,
} from "./api.js";
import { progressText } from "./eta.js";

const $ = (id) => document.getElementById(id);
const canOperate = Boolean(me && me.can_operate);

// -- the job tables -----------------------------------------------------------------

const live = { map: new Map(), body: document.querySelector("#jobs-table tbody"), sorted: true };
const found = { map: new Map(), body: document.querySelector("#search-table tbody"), sorted: false };
// Decisions seen live, for jobs whose config did not preset them.
const decided = new Map();
const fetching = new Set();

function pillarsOf(job) {
  const results = job.results || {};
  if (results.pillars && typeof results.pillars === "object") {
    const names = Object.keys(results.pillars);
    if (names.length) return names.join(", ");
  }
  const preset = job.config ? job.config.pillar_selections : null;
  if (preset !== null && preset !== undefined) return shownValue(preset);
  const seen = decided.get(job.job_id) || {};
  if (seen.pillar_selection !== undefined) return shownValue(seen.pillar_selection);
  return "—";
}

function modeOf(job) {
  const preset = job.config ? job.config.run_mode : null;
  if (preset) return preset;
  const seen = decided.get(job.job_id) || {};
  if (seen.run_mode !== undefined) return shownValue(seen.run_mode);
  const results = job.results || {};
  if (results.mode || results.run_mode) return shownValue(results.mode || results.run_mode);
  const selection = job.config ? job.config.pillar_selections : null;
  if (selection === "DEEP" || seen.pillar_selection === "DEEP") return "DEEP_LOOP";
  return "—";
}

function progressCell(job) {
  const percent = Math.max(0, Math.min(100, Number(job.progress || 0)));
  const bar = el("progress", {
    max: "100",
    value: String(percent),
    "aria-label": `Progress of ${job.job_id}`,
  });
  return el("td", { class: "progress-cell" }, bar, el("span", { class: "progress-text" }, progressText(job)));
}

async function act(jobId, action) {
  try {
    await api("POST", apiJobUrl(jobId, `/${action}`));
  } catch (err) {
    toast(`Could not ${action} ${jobId}: ${err.detail || err}`, "error");
  }
}

function actionsCell(job) {
  const cell = el("td", { class: "row-actions" });
  if (!canOperate) return cell;
  if (STARTABLE.has(job.status)) {
    cell.append(
      el(
        "button",
        {
          type: "button",
          class: "small primary",
          "aria-label": `Start ${job.job_id}`,
          onclick: () => act(job.job_id, "start"),
        },
        "Start",
      ),
    );
  }
  if (CANCELLABLE.has(job.status)) {
    cell.append(
      el(
        "button",
        {
          type: "button",
          class: "small",
          "aria-label": `Cancel ${job.job_id}`,
          onclick: () => act(job.job_id, "cancel"),
        },
        "Cancel",
      ),
    );
  }
  return cell;
}

// The job this one was made from, and how (continues, revision_of, replay_of).
function parentCell(job) {
  const parent = job.parent_job_id || job.replay_of;
  if (!parent) return el("td", { class: "parent" });
  return el("td", { class: "parent" },
    el("span", { class: "hint" }, `${job.relation || "replay_of"} `),
    el("a", { href: jobUrl(parent), class: "mono" }, parent),
  );
}

function jobRow(job) {
  return el(
    "tr",
    { dataset: { jobId: job.job_id, status: job.status || "" } },
    el(
      "th",
      { scope: "row" },
      el("a", { href: jobUrl(job.job_id), class: "mono" }, job.job_id),
      job.legacy ? el("span", { class: "badge muted" }, "legacy") : null,
      job.replay_of ? el("span", { class: "badge info", title: `Replay of ${job.replay_of}` }, "replay") : null,
    ),
    parentCell(job),
    el("td", {}, timeElement(job.created_at)),
    el("td", {}, statusBadge(job.status)),
    progressCell(job),
    el("td", { class: "pillars" }, pillarsOf(job)),
    el("td", {}, modeOf(job)),
    actionsCell(job),
  );
}

function newer(a, b) {
  return (
    String(b.created_at).localeCompare(String(a.created_at)) ||
    String(b.job_id).localeCompare(String(a.job_id))
  );
}

function rowOf(table, jobId) {
  return [...table.body.rows].find((row) => row.dataset.jobId === jobId) || null;
}

function showRow(table, jobId) {
  const job = table.map.get(jobId);
  const row = jobRow(job);
  const existing = rowOf(table, jobId);
  if (existing) {
    existing.replaceWith(row);
    return;
  }
  const before = table.sorted
    ? [...table.body.rows].find((r) => newer(job, table.map.get(r.dataset.jobId)) < 0)
    : null;
  table.body.insertBefore(row, before || null);
}

function renderAll(table) {
  const jobs = [...table.map.values()];
  if (table.sorted) jobs.sort(newer);
  table.body.replaceChildren(...jobs.map(jobRow));
}

function updateEmpty() {
  $("jobs-empty").hidden = live.map.size > 0;
}

/** Merge what we learned of a job into both tables; fetch it when it is new to us. */
function learn(data, { insert = true } = {}) {
  const jobId = data.job_id;
  for (const table of [live, found]) {
    const known = table.map.get(jobId);
    if (known) {
      table.map.set(jobId, { ...known, ...data });
      showRow(table, jobId);
    } else if (table === live && insert && data.created_at) {
      table.map.set(jobId, data);
      showRow(table, jobId);
    }
  }
  if (insert && !live.map.has(jobId) && !data.created_at) fetchJob(jobId);
  updateEmpty();
}

async function fetchJob(jobId) {
  if (fetching.has(jobId)) return;
  fetching.add(jobId);
  try {
    const job = await api("GET", apiJobUrl(jobId));
    learn(job);
  } catch {
    // Gone or unreadable: the next snapshot settles it.
  } finally {
    fetching.delete(jobId);
  }
}

events.on("snapshot", (data) => {
  live.map.clear();
  for (const job of data.jobs || []) live.map.set(job.job_id, job);
  renderAll(live);
  for (const job of data.jobs || []) {
    if (found.map.has(job.job_id)) learn(job, { insert: false });
  }
  updateEmpty();
});

events.on("job_update", (data) => learn(data));

events.on("prompt_resolved", (data) => {
  if (!data.type || data.applied === undefined || data.applied === null) return;
  const seen = decided.get(data.job_id) || {};
  seen[data.type] = data.applied;
  decided.set(data.job_id, seen);
  for (const table of [live, found]) if (table.map.has(data.job_id)) showRow(table, data.job_id);
});

// -- creating a job -----------------------------------------------------------------

function presetConfig() {
  const config = {};
  const pillars = $("preset-pillars").value;
  if (pillars === "ALL" || pillars === "DEEP") config.pillar_selections = pillars;
  if (pillars === "named") {
    const names = $("named-pillars")
      .value.split("\n")
      .map((n) => n.trim())
      .filter(Boolean);
    config.pillar_selections = names;
  }
  const mode = $("preset-mode").value;
  if (mode) config.run_mode = mode;
  const scorer = $("preset-scorer").value;
  if (scorer) config.scorer = scorer;
  const review = $("preset-review").value;
  if (review) config.review_evidence = review;
  const screening = $("preset-screening").value;
  if (screening) config.screening = screening;
  return config;
}

function showFiles() {
  const list = $("file-list");
  const files = [...$("files").files];
  list.replaceChildren(...files.map((f) => el("li", {}, f.name)));
}

async function createJob(event) {
  event.preventDefault();
  const error = $("create-error");
  error.textContent = "";
  setText("create-status", "");
  const useSample = $("use-sample").checked;
  const files = [...$("files").files];
  if (!useSample && !files.length) {
    error.textContent = "Choose at least one paper, or use the bundled sample.";
    return;
  }
  const config = presetConfig();
  let body;
  if (useSample) {
    body = { sample: true };
    if (Object.keys(config).length) body.config = config;
  } else {
    body = new FormData();
    for (const file of files) body.append("files", file, file.name);
    const framework = $("framework").files[0];
    if (framework) body.append("pillars", framework, framework.name);
    if (Object.keys(config).length) body.append("config", JSON.stringify(config));
  }
  const button = $("create-submit");
  button.disabled = true;
  try {
    const created = await api("POST", "/api/jobs", body);
    // A draft is announced by no event: read it before it starts.
    learn(await api("GET", apiJobUrl(created.job_id)));
    if ($("start-now").checked) await api("POST", apiJobUrl(created.job_id, "/start"));
    setText("create-status", `Created ${created.job_id}.`);
    $("create-form").reset();
    showFiles();
    togglePresets();
  } catch (err) {
    error.textContent = err.detail || String(err);
  } finally {
    button.disabled = false;
  }
}

function togglePresets() {
  $("upload-fields").hidden = $("use-sample").checked;
  $("named-pillars-field").hidden = $("preset-pillars").value !== "named";
}

if ($("create-form")) {
  $("create-form").addEventListener("submit", createJob);
  $("files").addEventListener("change", showFiles);
  $("use-sample").addEventListener("change", togglePresets);
  $("preset-pillars").addEventListener("change", togglePresets);
  togglePresets();
}

// -- finding jobs by decision ---------------------------------------------------------

let nextCursor = null;
let lastQuery = null;

async function search(cursor) {
  // "Load more" pages through the search that was run, not what the form says now.
  const params = new URLSearchParams(cursor ? lastQuery : { limit: "25" });
  if (cursor) {
    params.set("cursor", cursor);
  } else {
    const fields = { prompt_type: "search-type", response: "search-response", q: "search-q" };
    for (const [key, id] of Object.entries(fields)) {
      const value = $(id).value.trim();
      if (value) params.set(key, value);
    }
    lastQuery = params.toString();
  }
  setText("search-error", "");
  try {
    const body = await api("GET", `/api/jobs?${params}`);
    if (!cursor) found.map.clear();
    for (const job of body.jobs || []) found.map.set(job.job_id, job);
    renderAll(found);
    nextCursor = body.next_cursor;
    $("search-results").hidden = false;
    $("search-more").hidden = !nextCursor;
    const count = found.map.size;
    setText(
      "search-summary",
      count === 0
        ? "No job matches."
        : `${count} job${count === 1 ? "" : "s"} match${count === 1 ? "es" : ""}${nextCursor ? " (more below)" : ""}.`,
    );
  } catch (err) {
    setText("search-error", err.detail || String(err));
  }
}

$("search-form").addEventListener("submit", (event) => {
  event.preventDefault();
  search(null);
});
$("search-form").addEventListener("reset", () => {
  found.map.clear();
  renderAll(found);
  nextCursor = null;
  lastQuery = null;
  $("search-results").hidden = true;
  setText("search-summary", "");
  setText("search-error", "");
});
$("search-more").addEventListener("click", () => {
  if (nextCursor && lastQuery !== null) search(nextCursor);
});
