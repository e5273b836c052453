// Job page, screening card: the PRISMA 2020 flow (the diagram as an image with its text
// alternative, and each step's count in a table) and, for an operator on a completed
// job, a form to include or exclude papers, which posts a screening revision.
// Writes with textContent only (el), never innerHTML.

import { api, apiJobUrl, clear, el, jobUrl, me, pageData } from "./api.js";

const $ = (id) => document.getElementById(id);
let job = pageData.job;
const jobId = job.job_id;
const STAGE_TEXT = { title_abstract: "title/abstract", full_text: "full text" };
const SCOPE_TEXT = { all: "All records", added: "Papers added by this continuation" };
let loaded = false;

function flowTable(scope) {
  return el(
    "table",
    { class: "compact prisma-table", "data-scope": scope.scope },
    el("caption", {}, SCOPE_TEXT[scope.scope] || scope.scope),
    el("thead", {}, el("tr", {}, el("th", { scope: "col" }, "Step"), el("th", { scope: "col", class: "num" }, "Records"))),
    el(
      "tbody",
      {},
      scope.rows.map((row) =>
        el(
          "tr",
          { class: row.detail ? "prisma-detail" : "prisma-step", dataset: { step: row.step, detail: row.detail } },
          el("td", {}, row.detail ? `· ${row.label}` : row.label),
          el("td", { class: "num" }, String(row.count)),
        ),
      ),
    ),
  );
}

function renderFlow(state) {
  if (!state.prisma) {
    $("prisma-empty").textContent = "This job's report was made before the PRISMA flow was kept; replay it to get one.";
    return;
  }
  $("prisma-empty").hidden = true;
  const image = $("prisma-image");
  image.src = apiJobUrl(jobId, "/results/prisma_flow.svg");
  image.alt = state.prisma_alt || "PRISMA 2020 flow diagram";
  $("prisma-caption").textContent = state.prisma_alt || "";
  $("prisma-figure").hidden = false;
  clear($("prisma-tables"), state.prisma_rows.map((scope) => el("div", { class: "table-wrap" }, flowTable(scope))));
  $("prisma-download").hidden = false;
}

function currentText(paper) {
  if (paper.excluded) return `excluded: ${paper.reason || "?"} (${STAGE_TEXT[paper.stage] || paper.stage})`;
  return paper.decision === "include" ? "included (screened)" : "included";
}

function select(id, label, options, value) {
  const node = el("select", { id, "aria-label": label }, options.map(([v, text]) => el("option", { value: v }, text)));
  node.value = value;
  return node;
}

// The reviewer's choices by paper id, kept while the form pages and filters: only one
// page of rows is in the document at a time (a corpus of 1,000 papers made 4,000
// controls at once).
const choices = new Map();
const PAGE_SIZE = 50;
let shown = { query: "", chosenOnly: false, page: 0 };
const number = (n) => n.toLocaleString("en"); // 1,000 whatever the browser's locale

function paperRow(paper, reasons, index) {
  const kept = choices.get(paper.paper) || { decision: "", reason: reasons[0], stage: "full_text", note: "" };
  const choice = select(`screen-choice-${index}`, `Choice for ${paper.paper}`, [
    ["", "no change"],
    ["include", "include"],
    ["exclude", "exclude"],
  ], kept.decision);
  const reason = select(`screen-reason-${index}`, `Reason for ${paper.paper}`, reasons.map((r) => [r, r]), kept.reason);
  const stage = select(`screen-stage-${index}`, `Stage for ${paper.paper}`, [
    ["full_text", "full text"],
    ["title_abstract", "title/abstract"],
  ], kept.stage);
  const note = el("input", { type: "text", id: `screen-note-${index}`, "aria-label": `Note for ${paper.paper}` });
  note.value = kept.note;
  reason.disabled = kept.decision !== "exclude";
  const keep = () => {
    reason.disabled = choice.value !== "exclude";
    const value = { decision: choice.value, reason: reason.value, stage: stage.value, note: note.value };
    if (choice.value) choices.set(paper.paper, value);
    else choices.delete(paper.paper);
    show("screening-count", countText());
  };
  for (const control of [choice, reason, stage, note]) {
    control.addEventListener("input", keep);
    control.addEventListener("change", keep);
  }
  return el(
    "tr",
    { dataset: { paper: paper.paper } },
    el("td", {}, el("strong", {}, paper.title || paper.paper), el("div", { class: "hint mono" }, paper.paper)),
    el("td", { class: "screening-now" }, currentText(paper)),
    el("td", {}, choice),
    el("td", {}, reason),
    el("td", {}, stage),
    el("td", {}, note),
  );
}

function chosenItems() {
  return [...choices].map(([paper, c]) => {
    const item = { paper, decision: c.decision, stage: c.stage };
    if (c.decision === "exclude") item.reason = c.reason;
    if (c.note.trim()) item.note = c.note.trim();
    return item;
  });
}

function countText() {
  const n = choices.size;
  return n ? `${number(n)} paper${n === 1 ? "" : "s"} chosen` : "No paper chosen yet";
}

// Both are live regions: written only when they change, so that a screen reader does
// not repeat them at each keystroke in the filter.
function show(id, text) {
  const node = $(id);
  if (node.textContent !== text) node.textContent = text;
}

function matching(papers) {
  const query = shown.query.trim().toLowerCase();
  return papers.filter(
    (p) =>
      (!query || (p.title || "").toLowerCase().includes(query) || p.paper.toLowerCase().includes(query)) &&
      (!shown.chosenOnly || choices.has(p.paper)),
  );
}

function renderPage(state) {
  const found = matching(state.papers);
  const pages = Math.max(1, Math.ceil(found.length / PAGE_SIZE));
  shown.page = Math.max(0, Math.min(shown.page, pages - 1));
  const start = shown.page * PAGE_SIZE;
  const slice = found.slice(start, start + PAGE_SIZE);
  clear($("screening-table").querySelector("tbody"), slice.map((paper, i) => paperRow(paper, state.reasons, start + i)));
  show(
    "screening-range",
    found.length
      ? `Papers ${number(start + 1)}–${number(start + slice.length)} of ${number(found.length)}` +
          (found.length < state.papers.length ? ` (of ${number(state.papers.length)} in the job)` : "")
      : "No paper matches.",
  );
  $("screening-previous").disabled = shown.page === 0;
  $("screening-next").disabled = shown.page >= pages - 1;
  show("screening-count", countText());
}

function renderForm(state) {
  const form = $("screening-form");
  if (!(me && me.can_operate) || job.status !== "completed") {
    form.hidden = true;
    return;
  }
  renderPage(state);
  form.hidden = false;
  $("screening-filter").oninput = (event) => {
    shown = { ...shown, query: event.target.value, page: 0 };
    renderPage(state);
  };
  // Enter in the filter would submit the form, posting the choices made so far.
  $("screening-filter").onkeydown = (event) => {
    if (event.key === "Enter") event.preventDefault();
  };
  $("screening-chosen-only").onchange = (event) => {
    shown = { ...shown, chosenOnly: event.target.checked, page: 0 };
    renderPage(state);
  };
  $("screening-previous").onclick = () => {
    shown.page -= 1;
    renderPage(state);
  };
  $("screening-next").onclick = () => {
    shown.page += 1;
    renderPage(state);
  };
  form.onsubmit = async (event) => {
    event.preventDefault();
    const error = $("screening-error");
    error.textContent = "";
    const items = chosenItems();
    if (!items.length) {
      error.textContent = "Choose include or exclude for at least one paper.";
      return;
    }
    const note = $("screening-note").value.trim();
    $("screening-submit").disabled = true;
    try {
      const created = await api("POST", apiJobUrl(jobId, "/screening"), note ? { choices: items, note } : { choices: items });
      window.location.assign(jobUrl(created.job_id));
    } catch (err) {
      error.textContent = err.detail || err.message;
      $("screening-submit").disabled = false;
    }
  };
}

async function load() {
  if (loaded || job.status !== "completed") return;
  let state;
  try {
    state = await api("GET", apiJobUrl(jobId, "/screening"));
  } catch {
    return; // no report (an old job): nothing to show
  }
  loaded = true;
  renderFlow(state);
  renderForm(state);
}

load();
document.addEventListener("litgap:job-status", (event) => {
  job = { ...job, status: event.detail.job.status };
  load();
});
