// Job page, lineage card: the job this one was made from, the papers a continuation
// added and what they changed, the family as a small tree, and "Add papers" on a
// completed job. Writes with textContent only (el), never innerHTML.

import { api, apiJobUrl, clear, duplicateText, el, formatPercent, jobUrl, me, pageData, statusBadge } from "./api.js";

const $ = (id) => document.getElementById(id);
let job = pageData.job;
const jobId = job.job_id;
const RELATION_TEXT = {
  continues: "Continuation of",
  revision_of: "Revision of",
  replay_of: "Replay of",
};

function diffUrl(a, b) {
  return `/diff/${encodeURIComponent(a)}/${encodeURIComponent(b)}`;
}

function renderParent() {
  const parent = job.parent_job_id || job.replay_of;
  if (!parent) return;
  const relation = job.relation || "replay_of";
  const box = $("lineage-parent");
  clear(box,
    `${RELATION_TEXT[relation] || relation} `,
    el("a", { href: jobUrl(parent), class: "mono" }, parent),
    " ",
    el("a", { href: diffUrl(parent, jobId), class: "button small", id: "lineage-diff-link" }, "Compare with parent"),
  );
  box.hidden = false;
}

function renderAdded() {
  const added = (job.inputs || []).filter((i) => i.added);
  if (!added.length) return;
  clear($("lineage-added-list"),
    added.map((i) => el("li", {}, el("span", {}, i.name || ""), " ",
      el("code", { class: "mono hint", title: i.sha256 || "" }, String(i.sha256 || "").slice(0, 12)))),
  );
  const duplicates = (job.config && job.config.duplicates) || [];
  if (duplicates.length) {
    const left = duplicates.filter((d) => !d.kept).length;
    $("lineage-duplicates").textContent =
      `${duplicates.length} duplicate paper(s) found, ${left} left out: ` +
      duplicates.map(duplicateText).join("; ");
    $("lineage-duplicates").hidden = false;
  }
  $("lineage-added").hidden = false;
}

async function renderGained() {
  if (job.relation !== "continues" || job.status !== "completed" || !job.parent_job_id) return;
  let compared;
  try {
    compared = await api("GET", `/api/jobs/${encodeURIComponent(job.parent_job_id)}/diff/${encodeURIComponent(jobId)}`);
  } catch {
    return; // the parent's results are gone: nothing to compare
  }
  const results = compared.results || {};
  const closed = results.gaps_removed || [];
  const gained = results.evidence_gained || [];
  $("lineage-gained-summary").textContent =
    `${closed.length} gap(s) closed; ${gained.length} sub-requirement(s) gained evidence from the new papers.`;
  clear($("lineage-gained-list"),
    gained.map((g) => el("li", {},
      el("strong", {}, g.id), ` ${g.text || ""} `,
      el("span", { class: "hint" }, `${formatPercent(g.a)} → ${formatPercent(g.b)}`), " — ",
      (g.papers || []).map((p) => p.title || p.paper).join(", "),
      g.was_gap && !g.gap ? [" ", el("span", { class: "badge ok" }, "gap closed")] : null,
    )),
  );
  $("lineage-gained").hidden = false;
}

function treeNode(node) {
  const label = node.job_id === jobId
    ? el("strong", { class: "mono", "aria-current": "page" }, node.job_id)
    : el("a", { href: jobUrl(node.job_id), class: "mono" }, node.job_id);
  const item = el("li", { dataset: { jobId: node.job_id } },
    node.relation ? el("span", { class: "hint" }, `${node.relation} · `) : null,
    label, " ", statusBadge(node.status),
  );
  if ((node.children || []).length) item.append(el("ul", {}, node.children.map(treeNode)));
  return item;
}

async function renderTree() {
  let lineage;
  try {
    lineage = await api("GET", apiJobUrl(jobId, "/lineage"));
  } catch {
    return;
  }
  const lonely = !lineage.parents.length && !lineage.children.length;
  clear($("lineage-tree"), lonely ? el("li", { class: "empty" }, "No other job in this family yet.") : treeNode(lineage.tree));
}

function setUpForm() {
  const form = $("add-papers");
  form.hidden = !(me && me.can_operate) || job.status !== "completed";
  form.addEventListener("submit", async (event) => {
    event.preventDefault();
    $("add-papers-error").textContent = "";
    const body = new FormData();
    for (const file of $("add-papers-files").files) body.append("files", file);
    body.append("keep_duplicates", $("add-papers-keep").checked ? "true" : "false");
    try {
      const created = await api("POST", apiJobUrl(jobId, "/continue"), body);
      window.location.assign(jobUrl(created.job_id));
    } catch (err) {
      $("add-papers-error").textContent = err.message;
    }
  });
}

renderParent();
renderAdded();
setUpForm();
renderTree();
renderGained();

// A continuation opened while it runs: once it completes, show what it changed.
document.addEventListener("litgap:job-status", (event) => {
  job = { ...job, status: event.detail.job.status };
  $("add-papers").hidden = !(me && me.can_operate) || job.status !== "completed";
  renderTree();
  renderGained();
});
