// Agreement between raters of one job (reviewers of its revisions, and models by their
// recorded verdicts): per pair, or the two chosen, Cohen's kappa over the passages both
// judged, the confusion table, the agreement per sub-requirement, and the conflicts,
// each one click from its Evidence panel.

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

// The passage's Evidence panel on the job page (evidence.js opens it from the hash).
const evidenceHref = (sub) => `${jobUrl(jobId)}#evidence=${encodeURIComponent(String(sub || ""))}`;

function confusionTable(pair) {
  const confusion = pair.confusion;
  if (!confusion || !pair.common) return null;
  const labels = confusion.labels || [];
  const rows = labels.map((label, i) =>
    el(
      "tr",
      {},
      el("th", { scope: "row" }, `${pair.a}: ${label}`),
      ...labels.map((_, j) => el("td", { class: "num" }, String((confusion.counts[i] || [])[j] ?? 0))),
    ),
  );
  return table(`Confusion table, ${pair.a} and ${pair.b}`, ["", ...labels.map((l) => `${pair.b}: ${l}`)], rows);
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
      el("td", {}, el("a", { href: evidenceHref(c.sub_requirement), class: "button small" }, "Open evidence")),
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
    el("h3", {}, "Confusion table"),
    confusionTable(pair) || el("p", { class: "empty" }, "No passage judged by both."),
    el("h3", {}, "Per sub-requirement"),
    subs.length ? table(`Agreement per sub-requirement, ${title}`, ["Sub-requirement", "Both judged", "Agreed", "Kappa"], subs) : el("p", { class: "empty" }, "No passage judged by both."),
    el("h3", {}, `Conflicts (${conflicts.length})`),
    conflicts.length ? table(`Conflicts, ${title}`, ["Sub-requirement", "Paper", "Passage", pair.a, pair.b, ""], conflicts) : el("p", { class: "empty" }, "None: they agreed on every passage both judged."),
  );
}

function chosenPair() {
  const params = new URLSearchParams(window.location.search);
  return params.get("a") && params.get("b") ? [params.get("a"), params.get("b")] : null;
}

function renderPicker(raters, pair) {
  for (const [id, index] of [["rater-a", 0], ["rater-b", 1]]) {
    const select = $(id);
    clear(select, el("option", { value: "" }, "any"), ...raters.map((r) => el("option", { value: r.name }, `${r.name} (${r.kind})`)));
    select.value = pair ? pair[index] : "";
  }
  $("rater-picker").hidden = raters.length < 2;
}

async function load() {
  const pair = chosenPair();
  const query = pair ? `?a=${encodeURIComponent(pair[0])}&b=${encodeURIComponent(pair[1])}` : "";
  let body;
  try {
    body = await api("GET", apiJobUrl(jobId, `/agreement${query}`));
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
        el("span", { class: `badge ${r.kind === "model" ? "info" : "muted"}` }, r.kind === "model" ? "model" : "person"),
        ` judged ${r.judged} passage${r.judged === 1 ? "" : "s"}${r.unclear ? ` (and gave no verdict on ${r.unclear})` : ""} in `,
        (r.revisions || []).flatMap((id, i) => [i ? ", " : "", el("a", { href: jobUrl(id), class: "mono" }, id)]),
      ),
    ),
  );
  renderPicker(body.reviewers || [], pair);
  clear($("agreement-pairs"), (body.pairs || []).map(pairCard));
}

$("rater-picker").addEventListener("submit", (event) => {
  event.preventDefault();
  const a = $("rater-a").value;
  const b = $("rater-b").value;
  const url = new URL(window.location.href);
  url.search = a && b ? new URLSearchParams({ a, b }).toString() : "";
  window.history.replaceState(null, "", url);
  load();
});

load();
