// Job details: status, results, inputs, config, the User Decisions timeline, and the
// actions (start, cancel, download, replay). Refreshed from the API on live events.

import {
  CANCELLABLE,
  STARTABLE,
  api,
  apiJobUrl,
  add,
  clear,
  duplicateText,
  el,
  events,
  formatBytes,
  formatPercent,
  jobUrl,
  me,
  pageData,
  setText,
  shownValue,
  statusBadge,
  timeElement,
} from "./api.js";
import { DecisionTimeline, NO_HISTORY, WhatIf } from "./decisions.js";
import { progressText } from "./eta.js";

const $ = (id) => document.getElementById(id);
const canOperate = Boolean(me && me.can_operate);
let job = pageData.job;
const jobId = job.job_id;

// The other job-page modules learn of status changes from here, with the job as read
// from the API: whether a live event or a (re)connect's snapshot made this page read it,
// since a job that finished while the socket was connecting sends no job_update.
let announcedStatus = job.status;
function announceStatus() {
  if (job.status === announcedStatus) return;
  announcedStatus = job.status;
  document.dispatchEvent(new CustomEvent("litgap:job-status", { detail: { job } }));
}

const timeline = new DecisionTimeline();
const whatIf = new WhatIf((overrides) => replay(overrides));

// -- header: state, actions, errors, pending decisions --------------------------------

function renderState() {
  const percent = Math.max(0, Math.min(100, Number(job.progress || 0)));
  clear($("job-state"),
    statusBadge(job.status),
    el("progress", { max: "100", value: String(percent), "aria-label": "Job progress" }),
    el("span", { class: "progress-text" }, progressText(job)),
    job.legacy ? el("span", { class: "badge muted" }, "Legacy job (imported)") : null,
  );
}

function replayBlocker() {
  if (!canOperate) return "Only operators and admins can replay a job.";
  if (job.status === "draft") return "Nothing to replay yet: the job has not run.";
  if (!(job.prompts || []).length) return `Nothing to replay: ${NO_HISTORY}.`;
  return "";
}

function renderActions() {
  $("start-button").hidden = !canOperate || !STARTABLE.has(job.status);
  $("cancel-button").hidden = !canOperate || !CANCELLABLE.has(job.status);
  const blocker = replayBlocker();
  $("replay-button").disabled = Boolean(blocker);
  setText("replay-reason", blocker);
  const origin = $("replay-origin");
  origin.hidden = !job.replay_of;
  if (job.replay_of) {
    clear(origin,
      "Replay of ",
      el("a", { href: jobUrl(job.replay_of), class: "mono" }, job.replay_of),
      " · ",
      el(
        "a",
        { href: `/diff/${encodeURIComponent(job.replay_of)}/${encodeURIComponent(jobId)}`, class: "button small" },
        "Compare with original",
      ),
    );
  }
  $("job-error").hidden = !job.error;
  setText("job-error-text", job.error || "");
}

function renderPending() {
  const box = $("job-pending");
  const waiting = job.pending_prompts || [];
  box.hidden = !waiting.length;
  clear(box);
  for (const prompt of waiting) {
    const message = (prompt.prompt_data || {}).message || prompt.type;
    const open = el("button", { type: "button", class: "small primary" }, canOperate ? "Answer now" : "View");
    open.addEventListener("click", () =>
      document.dispatchEvent(new CustomEvent("litgap:show-prompt", { detail: { prompt_id: prompt.prompt_id } })),
    );
    add(box,
      el("p", {}, el("strong", {}, "Waiting for a decision: "), el("span", { class: "mono" }, prompt.type), ` · ${message} `, open),
    );
  }
}

// -- results, overview, config, inputs ------------------------------------------------

function stat(label, value) {
  return el("div", { class: "stat" }, el("span", { class: "stat-value" }, value), el("span", { class: "stat-label" }, label));
}

function countOf(value) {
  if (Array.isArray(value)) return String(value.length);
  if (value && typeof value === "object") return String(Object.keys(value).length);
  return shownValue(value);
}

function pillarBars(pillars) {
  const list = el("ul", { class: "bars", "aria-label": "Completeness per pillar" });
  for (const [name, value] of Object.entries(pillars)) {
    const percent = Math.max(0, Math.min(100, Number(value) || 0));
    const fill = el("span", { class: "fill" });
    fill.style.width = `${percent}%`; // CSSOM, which the page's CSP allows
    add(list,
      el(
        "li",
        {},
        el("span", { class: "bar-label" }, name),
        el("span", { class: "bar", "aria-hidden": "true" }, fill),
        el("span", { class: "bar-value" }, formatPercent(value)),
      ),
    );
  }
  return list;
}

function gapTable(gaps) {
  return el(
    "div",
    { class: "table-wrap" },
    el(
      "table",
      { class: "compact", "aria-label": "Top gaps" },
      el("thead", {}, el("tr", {}, ["Sub-requirement", "Text", "Pillar", "Completeness", ""].map((h) => el("th", { scope: "col" }, h)))),
      el(
        "tbody",
        {},
        gaps.map((gap) => {
          const id = shownValue(gap.id ?? gap.sub_requirement);
          // The text comes with the gap, or evidence.js fills it from the report.
          return el(
            "tr",
            {},
            el("td", { class: "mono" }, id),
            el("td", { class: "gap-text", dataset: { sub: id } }, gap.text ?? ""),
            el("td", {}, shownValue(gap.pillar)),
            el("td", { class: "num" }, formatPercent(gap.completeness)),
            el("td", {}, job.status === "completed" ? gapEvidenceButton(id) : null),
          );
        }),
      ),
    ),
  );
}

function gapEvidenceButton(id) {
  // The Evidence panel is evidence.js's: ask it to open this sub-requirement.
  const open = () => document.dispatchEvent(new CustomEvent("litgap:show-evidence", { detail: { sub: id } }));
  return el("button", { type: "button", class: "small", "aria-label": `Evidence for ${id}`, onclick: open }, "Evidence");
}

function skippedList(skipped) {
  const items = (Array.isArray(skipped) ? skipped : Object.entries(skipped)).map((item) => {
    if (Array.isArray(item)) return el("li", {}, `${item[0]}: ${shownValue(item[1])}`);
    if (item && typeof item === "object") {
      const name = item.name ?? item.file ?? item.path ?? "";
      const reason = item.reason ?? item.error ?? "";
      return el("li", {}, name && reason ? `${name}: ${reason}` : shownValue(item));
    }
    return el("li", {}, shownValue(item));
  });
  return el("ul", { class: "plain-list" }, items);
}

function resultFiles() {
  const files = job.result_files || [];
  if (!files.length) return null;
  return el(
    "div",
    {},
    el("h3", {}, "Result files"),
    el(
      "ul",
      { class: "file-links" },
      files.map((name) =>
        el("li", {}, el("a", { href: apiJobUrl(jobId, `/results/${encodeURIComponent(name)}`), target: "_blank", rel: "noopener" }, name)),
      ),
    ),
  );
}

function renderResults() {
  const box = clear($("results"));
  const results = job.results;
  if (!results || typeof results !== "object") {
    const text =
      job.status === "completed" ? "No results summary was recorded." : "Results appear when the job completes.";
    add(box, el("p", { class: "empty" }, text), resultFiles());
    return;
  }
  add(box,
    el(
      "div",
      { class: "stats" },
      stat("Overall completeness", formatPercent(results.overall_completeness)),
      stat("Gaps", shownValue(results.gap_count)),
      results.papers !== undefined ? stat("Papers", countOf(results.papers)) : null,
      results.skipped !== undefined ? stat("Skipped", countOf(results.skipped)) : null,
    ),
  );
  if (results.pillars && typeof results.pillars === "object" && Object.keys(results.pillars).length) {
    add(box, el("h3", {}, "Completeness per pillar"), pillarBars(results.pillars));
  }
  if ((job.result_files || []).includes("completeness.svg")) {
    add(box,
      el(
        "figure",
        { class: "chart" },
        el("img", {
          src: apiJobUrl(jobId, "/results/completeness.svg"),
          alt: "Chart of completeness per pillar",
        }),
      ),
    );
  }
  const gaps = Array.isArray(results.top_gaps) ? results.top_gaps : [];
  if (gaps.length) add(box, el("h3", {}, "Top gaps"), gapTable(gaps));
  const skipped = results.skipped;
  if (skipped && (Array.isArray(skipped) ? skipped.length : Object.keys(skipped).length)) {
    add(box, el("h3", {}, "Skipped files"), skippedList(skipped));
  }
  add(box, resultFiles());
  document.dispatchEvent(new CustomEvent("litgap:results-rendered"));
}

function facts(node, pairs) {
  clear(node);
  for (const [label, value] of pairs) {
    node.append(el("dt", {}, label), el("dd", {}, value instanceof Node ? value : shownValue(value)));
  }
}

function renderOverview() {
  facts($("overview"), [
    ["Status", statusBadge(job.status)],
    ["Stage", job.stage],
    ["Created", timeElement(job.created_at)],
    ["Started", timeElement(job.started_at)],
    ["Finished", timeElement(job.completed_at)],
    ["Created by", job.created_by],
  ]);
}

const INTERNAL_CONFIG = new Set([
  "replay_answers",
  "settings",
  "evidence_reviews",
  "evidence_verdicts",
  "duplicates",
  "scorer_model",
]);

function renderConfig() {
  const config = job.config && typeof job.config === "object" ? job.config : {};
  // What services keep for the run (the replay plan, a revision's reviews, the job's
  // settings...) is internal: the diff page and User Decisions show what it changed.
  const pairs = Object.entries(config).filter(([key]) => !INTERNAL_CONFIG.has(key));
  facts($("config"), pairs.length ? pairs : [["Config", "none recorded"]]);
}

function renderInputs() {
  const inputs = Array.isArray(job.inputs) ? job.inputs : [];
  const body = clear($("inputs-table").tBodies[0]);
  $("inputs-empty").hidden = inputs.length > 0;
  for (const input of inputs) {
    const sha = String(input.sha256 || "");
    add(body,
      el(
        "tr",
        {},
        el("td", { class: "file-name" }, shownValue(input.name)),
        el("td", {}, shownValue(input.role), input.added ? " · added" : ""),
        el("td", { class: "num" }, formatBytes(input.size)),
        el("td", { class: "mono", title: sha }, sha ? `${sha.slice(0, 12)}…` : "—"),
      ),
    );
  }
  // A continuation's lineage card lists its duplicates beside what it added.
  const duplicates = (job.relation !== "continues" && job.config && job.config.duplicates) || [];
  const note = $("inputs-duplicates");
  note.hidden = !duplicates.length;
  note.textContent = duplicates.length
    ? `Uploaded twice: ${duplicates.map(duplicateText).join("; ")}.`
    : "";
}

function renderAll() {
  announceStatus();
  renderState();
  renderActions();
  renderPending();
  renderResults();
  renderOverview();
  renderConfig();
  renderInputs();
  timeline.render(job.prompts || []);
  whatIf.render(job.prompts || [], canOperate);
}

// -- actions ----------------------------------------------------------------------

async function run(label, action) {
  setText("action-error", "");
  try {
    await action();
  } catch (err) {
    setText("action-error", `${label}: ${err.detail || err}`);
  }
}

async function replay(overrides) {
  await run("Replay failed", async () => {
    const body = overrides && Object.keys(overrides).length ? { overrides } : {};
    setText("action-status", "Creating the replay…");
    const created = await api("POST", apiJobUrl(jobId, "/replay"), body);
    if (created.status === "draft") await api("POST", apiJobUrl(created.job_id, "/start"));
    window.location.assign(jobUrl(created.job_id));
  });
  setText("action-status", "");
}

$("replay-button").addEventListener("click", () => replay(null));
$("start-button").addEventListener("click", () =>
  run("Start failed", () => api("POST", apiJobUrl(jobId, "/start")).then(refresh)),
);
$("cancel-button").addEventListener("click", () =>
  run("Cancel failed", () => api("POST", apiJobUrl(jobId, "/cancel")).then(refresh)),
);

// -- live ---------------------------------------------------------------------------

let loading = false;
let again = false;

async function refresh() {
  if (loading) {
    again = true;
    return;
  }
  loading = true;
  try {
    job = await api("GET", apiJobUrl(jobId));
    renderAll();
  } catch (err) {
    setText("action-error", `Could not refresh the job: ${err.detail || err}`);
  } finally {
    loading = false;
    if (again) {
      again = false;
      refresh();
    }
  }
}

events.on("job_update", (data) => {
  if (data.job_id !== jobId) return;
  const changed = data.status !== undefined && data.status !== job.status;
  job = { ...job, ...data };
  renderState();
  if (changed || data.created_at) refresh();
});
events.on("prompt_request", (data) => {
  if (data.job_id === jobId) refresh();
});
events.on("prompt_resolved", (data) => {
  if (data.job_id === jobId) refresh();
});
// Events may have been missed before the socket (re)connected: read the job again.
events.on("snapshot", () => refresh());

renderAll();
