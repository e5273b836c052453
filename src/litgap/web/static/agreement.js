// Reviewer agreement: per pair of reviewers of one job's revisions, Cohen's kappa over
// the passages both judged, the agreement per sub-requirement, and the conflicts.

import { api, apiJobUrl, clear, el, jobUrl, pageData, setText, shownValue } from "./api.js";

const $ = (id) => document.getElementById(id);
const jobId = pageData.job_id;

function kappaText(kappa) {
  return kappa === null || kappa === undefined ? "undefined" : Number(kappa).toFixed(2);
}

function percent(part, whole) {
  return whole ? `${Math.round((100 * part) / whole)} %` : "—";
}

function table(label, columns, rows) {
  return el(
    "div",
    { class: "table-wrap" },
    el(
      "table",
      { class: "compact", "aria-label": label },
      el("thead", {}, el("tr", {}, columns.map((c) => el("th", { scope: "col" }, c)))),
      el("tbody", {}, rows),
    ),
  );
}

function pairCard(pair) {
  const title = `${pair.a} and ${pair.b}`;
  const subs = (pair.sub_requirements || []).map((s) =>
    el(
      "tr",
      {},
      el("td", { class: "mono" }, shownValue(s.sub_requirement)),
      el("td", { class: "num" }, String(s.common)),
      el("td", { class: "num" }, `${s.agreed} (${percent(s.agreed, s.common)})`),
      el("td", { class: "num" }, kappaText(s.kappa)),
    ),
  );
  const conflicts = (pair.conflicts || []).map((c) =>
    el(
      "tr",
      { dataset: { evidenceId: String(c.evidence_id) } },
      el("td", { class: "mono" }, shownValue(c.sub_requirement)),
      el("td", {}, `${shownValue(c.paper)}${c.page ? `, p. ${c.page}` : ""}`),
      el("td", { class: "sub-text" }, String(c.text || "").slice(0, 300)),
      el("td", {}, `${pair.a}: ${shownValue((c.verdicts || {})[pair.a])}`),
      el("td", {}, `${pair.b}: ${shownValue((c.verdicts || {})[pair.b])}`),
    ),
  );
  return el(
    "section",
    { class: "card agreement-pair", "aria-label": title },
    el("h2", {}, title),
    el(
      "div",
      { class: "stats" },
      el("div", { class: "stat" }, el("span", { class: "stat-value kappa" }, kappaText(pair.kappa)), el("span", { class: "stat-label" }, "Cohen's kappa")),
      el("div", { class: "stat" }, el("span", { class: "stat-value" }, String(pair.common)), el("span", { class: "stat-label" }, "Passages both judged")),
      el("div", { class: "stat" }, el("span", { class: "stat-value" }, percent(pair.agreed, pair.common)), el("span", { class: "stat-label" }, "Observed agreement")),
    ),
    el("h3", {}, "Per sub-requirement"),
    subs.length ? table(`Agreement per sub-requirement, ${title}`, ["Sub-requirement", "Both judged", "Agreed", "Kappa"], subs) : el("p", { class: "empty" }, "No passage judged by both."),
    el("h3", {}, `Conflicts (${conflicts.length})`),
    conflicts.length ? table(`Conflicts, ${title}`, ["Sub-requirement", "Paper", "Passage", pair.a, pair.b], conflicts) : el("p", { class: "empty" }, "None: they agreed on every passage both judged."),
  );
}

async function load() {
  let body;
  try {
    body = await api("GET", apiJobUrl(jobId, "/agreement"));
  } catch (err) {
    setText("agreement-error", `Could not load the agreement: ${err.detail || err}`);
    return;
  }
  $("agreement-message").hidden = !body.message;
  setText("agreement-message", body.message || "");
  clear(
    $("agreement-reviewers"),
    (body.reviewers || []).map((r) =>
      el(
        "li",
        {},
        el("strong", {}, r.name),
        ` judged ${r.judged} passage${r.judged === 1 ? "" : "s"} in `,
        (r.revisions || []).flatMap((id, i) => [i ? ", " : "", el("a", { href: jobUrl(id), class: "mono" }, id)]),
      ),
    ),
  );
  clear($("agreement-pairs"), (body.pairs || []).map(pairCard));
}

load();
