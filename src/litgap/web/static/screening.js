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

function paperRow(paper, index, reasons) {
  const choice = select(`screen-choice-${index}`, `Choice for ${paper.paper}`, [
    ["", "no change"],
    ["include", "include"],
    ["exclude", "exclude"],
  ], "");
  const reason = select(`screen-reason-${index}`, `Reason for ${paper.paper}`, reasons.map((r) => [r, r]), reasons[0]);
  const stage = select(`screen-stage-${index}`, `Stage for ${paper.paper}`, [
    ["full_text", "full text"],
    ["title_abstract", "title/abstract"],
  ], "full_text");
  const note = el("input", { type: "text", id: `screen-note-${index}`, "aria-label": `Note for ${paper.paper}` });
  reason.disabled = true;
  choice.addEventListener("change", () => {
    reason.disabled = choice.value !== "exclude";
  });
  const row = el(
    "tr",
    { dataset: { paper: paper.paper } },
    el("td", {}, el("strong", {}, paper.title || paper.paper), el("div", { class: "hint mono" }, paper.paper)),
    el("td", { class: "screening-now" }, currentText(paper)),
    el("td", {}, choice),
    el("td", {}, reason),
    el("td", {}, stage),
    el("td", {}, note),
  );
  return {
    row,
    value: () => {
      if (!choice.value) return null;
      const item = { paper: paper.paper, decision: choice.value, stage: stage.value };
      if (choice.value === "exclude") item.reason = reason.value;
      if (note.value.trim()) item.note = note.value.trim();
      return item;
    },
  };
}

function renderForm(state) {
  const form = $("screening-form");
  if (!(me && me.can_operate) || job.status !== "completed") {
    form.hidden = true;
    return;
  }
  const rows = state.papers.map((paper, index) => paperRow(paper, index, state.reasons));
  clear(form.querySelector("#screening-table tbody"), rows.map((r) => r.row));
  form.hidden = false;
  form.onsubmit = async (event) => {
    event.preventDefault();
    const error = $("screening-error");
    error.textContent = "";
    const choices = rows.map((r) => r.value()).filter(Boolean);
    if (!choices.length) {
      error.textContent = "Choose include or exclude for at least one paper.";
      return;
    }
    const note = $("screening-note").value.trim();
    $("screening-submit").disabled = true;
    try {
      const created = await api("POST", apiJobUrl(jobId, "/screening"), note ? { choices, note } : { choices });
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
