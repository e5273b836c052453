// The job page's evidence: completeness per sub-requirement, each opening an Evidence
// panel (its passages best first, matched words marked, the PDF at its page), and for
// operators Accept / Reject verdicts that collect into a review submitted as a
// revision (a new job; this one never changes). Every text is written with DOM APIs.

import {
  ApiError,
  api,
  apiJobUrl,
  clear,
  context,
  el,
  formatPercent,
  jobUrl,
  me,
  pageData,
  setText,
  shownValue,
} from "./api.js";

const $ = (id) => document.getElementById(id);
const canJudge = Boolean(me && me.can_operate);
const jobId = pageData.job.job_id;
const PAGE = 200; // the API's largest page of sub-requirements
const SNIPPET = 220; // characters of a passage shown in the review list
const VERDICT_TEXT = { accept: "Accepted", reject: "Rejected" };
const VERDICT_CLASS = { accept: "ok", reject: "bad" };

let status = pageData.job.status;
let subs = []; // sub-requirement views, framework order
let openSub = null; // id of the sub-requirement whose panel is open
let loaded = false;

// -- the review: verdicts kept in this tab until submitted ------------------------------

class Review {
  constructor(key) {
    this.key = key;
    this.items = new Map(); // evidence_id -> {evidence_id, verdict, note, sub, title, page, text}
    try {
      for (const item of JSON.parse(sessionStorage.getItem(key) || "[]")) {
        if (item && typeof item.evidence_id === "string") this.items.set(item.evidence_id, item);
      }
    } catch {
      sessionStorage.removeItem(key); // unreadable: start afresh
    }
  }

  save() {
    if (this.items.size) sessionStorage.setItem(this.key, JSON.stringify([...this.items.values()]));
    else sessionStorage.removeItem(this.key);
  }

  verdictOf(evidenceId) {
    const item = this.items.get(evidenceId);
    return item ? item.verdict : null;
  }

  /** Give `verdict` to a passage; giving the same verdict again takes it back. */
  toggle(passage, sub, verdict) {
    const id = passage.evidence_id;
    if (this.verdictOf(id) === verdict) this.items.delete(id);
    else {
      const note = this.items.has(id) ? this.items.get(id).note : "";
      this.items.set(id, {
        evidence_id: id,
        verdict,
        note,
        sub: sub.sub_requirement,
        title: passage.title || passage.paper || "",
        page: passage.page ?? null,
        text: String(passage.text || "").slice(0, SNIPPET),
      });
    }
    this.save();
  }

  body(note) {
    const verdicts = [...this.items.values()].map((item) => {
      const given = { evidence_id: item.evidence_id, verdict: item.verdict };
      if (item.sub) given.sub_requirement = item.sub;
      if (item.note && item.note.trim()) given.note = item.note.trim();
      return given;
    });
    return note ? { verdicts, note } : { verdicts };
  }
}

const review = new Review(`litgap-review:${jobId}`);

// -- loading --------------------------------------------------------------------------

async function loadSubs() {
  const all = [];
  for (let offset = 0; ; offset += PAGE) {
    const page = await api("GET", apiJobUrl(jobId, `/evidence?offset=${offset}&limit=${PAGE}`));
    all.push(...page.items);
    if (offset + PAGE >= page.total) break;
  }
  return all;
}

async function load() {
  setText("evidence-error", "");
  try {
    subs = await loadSubs();
  } catch (err) {
    // 409: not completed yet, or a report from before evidence was kept.
    const waiting = err instanceof ApiError && err.status === 409 && status !== "completed";
    setText("evidence-empty", waiting ? "Evidence appears when the job completes." : err.detail || String(err));
    $("evidence-empty").hidden = false;
    return;
  }
  loaded = true;
  $("evidence-empty").hidden = subs.length > 0;
  setText("evidence-empty", subs.length ? "" : "The report has no sub-requirements.");
  renderBreakdown();
  fillGapTexts();
  renderReview();
  loadAgreement();
  if (openSub) openEvidence(openSub, false);
}

// The model reviewer's figures (results.llm_review), and why it stopped, if it did.
function renderModelReview(job) {
  const figures = (job && job.results && job.results.llm_review) || null;
  $("model-review").hidden = !figures;
  if (!figures) return;
  const labels = Object.entries(figures.labels || {}).map(([label, n]) => `${n} ${label.replaceAll("_", " ")}`);
  const tokens = Number(figures.prompt_tokens || 0) + Number(figures.completion_tokens || 0);
  setText(
    "model-review-summary",
    `Model review by ${shownValue(figures.model)}: ${figures.judged} of ${figures.passages} passages judged` +
      `${labels.length ? ` (${labels.join(", ")})` : ""} · ${figures.calls} calls · ${tokens} tokens` +
      `${figures.cached ? ` · ${figures.cached} from the cache` : ""}${figures.replayed ? ` · ${figures.replayed} replayed` : ""}` +
      ` · ${figures.counted ? "they count in this report" : "recorded only: they do not change this report"}`,
  );
  const problems = [figures.stopped, figures.failed ? `${figures.failed} passages got no answer (${figures.last_error})` : null].filter(Boolean);
  $("model-review-stopped").hidden = !problems.length;
  setText("model-review-stopped", problems.join(" · "));
  $("model-revision").hidden = !(canJudge && status === "completed" && !figures.counted && figures.judged > 0);
}

async function reviseWithModel() {
  setText("evidence-error", "");
  try {
    const created = await api("POST", apiJobUrl(jobId, "/revisions"), { verdicts: [], model_verdicts: true });
    window.location.assign(jobUrl(created.job_id));
  } catch (err) {
    setText("evidence-error", `Could not create the revision: ${err.detail || err}`);
  }
}

async function loadAgreement() {
  try {
    const body = await api("GET", apiJobUrl(jobId, "/agreement"));
    $("agreement-link").hidden = (body.reviewers || []).length < 2;
  } catch {
    $("agreement-link").hidden = true; // agreement is an extra: the page works without it
  }
}

// -- the completeness breakdown ----------------------------------------------------------

function evidenceButton(subId) {
  return el(
    "button",
    {
      type: "button",
      class: "small evidence-open",
      "aria-label": `Evidence for ${subId}`,
      dataset: { sub: subId },
      onclick: () => openEvidence(subId, true),
    },
    "Evidence",
  );
}

function bar(value) {
  const percent = Math.max(0, Math.min(100, Number(value) || 0));
  const fill = el("span", { class: "fill" });
  fill.style.width = `${percent}%`; // CSSOM, which the CSP allows
  return el("span", { class: "bar", "aria-hidden": "true" }, fill);
}

function subRow(sub) {
  return el(
    "tr",
    { dataset: { sub: sub.sub_requirement } },
    el("td", { class: "mono" }, sub.sub_requirement),
    el("td", { class: "sub-text" }, shownValue(sub.text)),
    el(
      "td",
      { class: "sub-completeness" },
      bar(sub.completeness),
      el("span", { class: "num" }, formatPercent(sub.completeness)),
      sub.gap ? el("span", { class: "badge warn" }, "Gap") : null,
    ),
    el("td", { class: "num" }, String(sub.passages.length)),
    el("td", {}, evidenceButton(sub.sub_requirement)),
  );
}

function renderBreakdown() {
  const box = clear($("evidence-breakdown"));
  const pillars = new Map();
  for (const sub of subs) {
    if (!pillars.has(sub.pillar)) pillars.set(sub.pillar, []);
    pillars.get(sub.pillar).push(sub);
  }
  for (const [pillar, items] of pillars) {
    const gaps = items.filter((s) => s.gap).length;
    const body = el("tbody");
    let requirement = null;
    for (const sub of items) {
      const req = sub.requirement || {};
      if (req.id !== requirement) {
        requirement = req.id;
        body.append(
          el("tr", { class: "req-row" }, el("th", { colspan: "5", scope: "colgroup" }, `${shownValue(req.id)} · ${shownValue(req.name)}`)),
        );
      }
      body.append(subRow(sub));
    }
    const table = el(
      "table",
      { class: "compact breakdown", "aria-label": `Sub-requirements of ${shownValue(pillar)}` },
      el("thead", {}, el("tr", {}, ["Sub-requirement", "Text", "Completeness", "Passages", ""].map((h) => el("th", { scope: "col" }, h)))),
      body,
    );
    box.append(
      el(
        "details",
        { class: "pillar-breakdown", open: true },
        el("summary", {}, el("strong", {}, shownValue(pillar)), el("span", { class: "hint" }, ` · ${items.length} sub-requirements, ${gaps} gap${gaps === 1 ? "" : "s"}`)),
        el("div", { class: "table-wrap" }, table),
      ),
    );
  }
}

/** Top gaps (drawn by job.js) show each sub-requirement's text and its Evidence button. */
function fillGapTexts() {
  if (!loaded) return;
  const texts = new Map(subs.map((s) => [s.sub_requirement, s.text]));
  for (const cell of document.querySelectorAll("td.gap-text[data-sub]")) {
    if (!cell.textContent && texts.has(cell.dataset.sub)) cell.textContent = shownValue(texts.get(cell.dataset.sub));
  }
}

// -- the Evidence panel ------------------------------------------------------------------

/** The passage's text with its highlight offsets as <mark> elements. */
function markedText(text, highlights) {
  const node = el("blockquote", { class: "passage-text" });
  const spans = (Array.isArray(highlights) ? highlights : [])
    .map(([start, end]) => [Math.max(0, Number(start) || 0), Math.min(text.length, Number(end) || 0)])
    .filter(([start, end]) => end > start)
    .sort((a, b) => a[0] - b[0]);
  let at = 0;
  for (const [start, end] of spans) {
    if (end <= at) continue;
    const from = Math.max(start, at);
    if (from > at) node.append(text.slice(at, from));
    node.append(el("mark", {}, text.slice(from, end)));
    at = end;
  }
  if (at < text.length) node.append(text.slice(at));
  return node;
}

function recordedBadge(passage) {
  const all = Array.isArray(passage.recorded_verdicts) ? passage.recorded_verdicts : [];
  const recorded = all.filter((r) => !r.model); // people's; the model's have their own badge
  const last = recorded[recorded.length - 1];
  const verdict = passage.verdict || (last && last.verdict);
  if (!verdict) return null;
  const who = last && last.answered_by ? ` by ${last.answered_by}` : "";
  const badge = el("span", { class: `badge ${VERDICT_CLASS[verdict] || ""} recorded-verdict` }, `${VERDICT_TEXT[verdict] || verdict}${who}`);
  if (last && last.note) badge.setAttribute("title", String(last.note));
  return badge;
}

// The model's latest verdict on the passage for this sub-requirement (it was asked about
// this pair), marked as the model's, with its reason.
function modelVerdict(passage, sub) {
  const all = Array.isArray(passage.recorded_verdicts) ? passage.recorded_verdicts : [];
  const given = all.filter((r) => r.model && r.sub_requirement === sub.sub_requirement);
  const last = given[given.length - 1];
  if (!last) return null;
  const label = String(last.label || "").replaceAll("_", " ");
  return el(
    "p",
    { class: "model-verdict" },
    el("span", { class: `badge ${VERDICT_CLASS[last.verdict] || "info"} model-badge` }, `Model: ${label}`),
    " ",
    el("span", { class: "model-name mono" }, shownValue(last.answered_by)),
    last.note ? el("span", { class: "model-reason" }, ` — ${last.note}`) : null,
  );
}

function verdictButtons(passage, sub, item) {
  const mine = review.verdictOf(passage.evidence_id);
  const make = (verdict, label) =>
    el(
      "button",
      {
        type: "button",
        class: `small verdict-${verdict}`,
        "aria-pressed": String(mine === verdict),
        "aria-label": `${label} passage ${passage.rank}`,
        onclick: () => {
          review.toggle(passage, sub, verdict);
          clear(item.querySelector(".passage-actions"), ...verdictButtons(passage, sub, item));
          renderReview();
        },
      },
      label,
    );
  return [make("accept", "Accept"), make("reject", "Reject")];
}

function passageItem(passage, sub) {
  const page = passage.page ? `p. ${passage.page}` : null;
  const item = el("li", { class: "passage", dataset: { evidenceId: passage.evidence_id } });
  item.append(
    el(
      "div",
      { class: "passage-head" },
      el("span", { class: "rank" }, `#${passage.rank}`),
      el("strong", { class: "passage-title" }, shownValue(passage.title || passage.paper)),
      page ? el("span", { class: "passage-page" }, page) : null,
      el("span", { class: "passage-score" }, `score ${Number(passage.score).toFixed(4)}`),
      recordedBadge(passage),
      passage.file_url
        ? el("a", { href: passage.file_url, target: "_blank", rel: "noopener", class: "passage-open" }, page ? `Open PDF at ${page}` : "Open PDF")
        : null,
    ),
    markedText(String(passage.text || ""), passage.highlights),
    modelVerdict(passage, sub),
  );
  if (canJudge) item.append(el("div", { class: "passage-actions" }, ...verdictButtons(passage, sub, item)));
  return item;
}

async function openEvidence(subId, focus) {
  openSub = subId;
  const panel = $("evidence-panel");
  panel.hidden = false;
  setText("evidence-panel-title", `Evidence for ${subId}`);
  setText("evidence-error", "");
  let sub;
  try {
    sub = await api("GET", apiJobUrl(jobId, `/evidence?sub=${encodeURIComponent(subId)}`));
  } catch (err) {
    setText("evidence-error", `Could not load the evidence for ${subId}: ${err.detail || err}`);
    return;
  }
  if (openSub !== subId) return; // another one was opened meanwhile
  setText("evidence-sub-text", shownValue(sub.text));
  const req = sub.requirement || {};
  setText(
    "evidence-sub-facts",
    `${shownValue(sub.pillar)} · ${shownValue(req.id)} ${shownValue(req.name)} · completeness ${formatPercent(sub.completeness)}${sub.gap ? " · gap" : ""}`,
  );
  $("evidence-panel-hint").hidden = !canJudge;
  clear($("evidence-passages"), sub.passages.map((p) => passageItem(p, sub)));
  $("evidence-none").hidden = sub.passages.length > 0;
  if (focus) {
    panel.scrollIntoView({ block: "start" });
    panel.focus({ preventScroll: true });
  }
}

function closeEvidence() {
  openSub = null;
  $("evidence-panel").hidden = true;
}

// -- the review panel ---------------------------------------------------------------------

function reviewItem(item) {
  const page = item.page ? `, p. ${item.page}` : "";
  const note = el("textarea", {
    rows: "1",
    maxlength: String(context.limits.note),
    "aria-label": `Note on ${item.evidence_id}`,
    placeholder: "Why? (optional)",
  });
  note.value = item.note || "";
  note.addEventListener("input", () => {
    item.note = note.value;
    review.save();
  });
  const remove = el("button", { type: "button", class: "small", "aria-label": `Remove verdict on ${item.evidence_id}` }, "Remove");
  remove.addEventListener("click", () => {
    review.items.delete(item.evidence_id);
    review.save();
    renderReview();
    if (openSub) openEvidence(openSub, false);
  });
  return el(
    "li",
    { dataset: { evidenceId: item.evidence_id } },
    el(
      "div",
      { class: "review-head" },
      el("span", { class: `badge ${VERDICT_CLASS[item.verdict] || ""}` }, VERDICT_TEXT[item.verdict] || item.verdict),
      el("span", { class: "mono" }, item.sub),
      el("span", {}, `${item.title}${page}`),
      remove,
    ),
    el("p", { class: "review-snippet" }, item.text),
    note,
  );
}

function renderReview() {
  const items = [...review.items.values()];
  $("review").hidden = !canJudge || !items.length;
  const accepted = items.filter((i) => i.verdict === "accept").length;
  setText(
    "review-count",
    `${items.length} verdict${items.length === 1 ? "" : "s"} (${accepted} accepted, ${items.length - accepted} rejected)`,
  );
  clear($("review-list"), items.map(reviewItem));
}

async function submitReview() {
  const button = $("review-submit");
  setText("review-error", "");
  button.disabled = true;
  setText("review-status", "Creating the revision…");
  try {
    const note = $("review-note").value.trim();
    const created = await api("POST", apiJobUrl(jobId, "/revisions"), review.body(note));
    review.items.clear();
    review.save();
    window.location.assign(jobUrl(created.job_id));
  } catch (err) {
    setText("review-status", "");
    setText("review-error", `Create revision failed: ${err.detail || err}`);
    button.disabled = false;
  }
}

// -- wiring --------------------------------------------------------------------------------

$("evidence-close").addEventListener("click", closeEvidence);
$("model-revision").addEventListener("click", reviseWithModel);
$("review-submit").addEventListener("click", submitReview);
$("review-clear").addEventListener("click", () => {
  review.items.clear();
  review.save();
  renderReview();
  if (openSub) openEvidence(openSub, false);
});
document.addEventListener("litgap:show-evidence", (event) => {
  const subId = event.detail && event.detail.sub;
  if (subId) openEvidence(subId, true);
});
document.addEventListener("litgap:results-rendered", fillGapTexts);
document.addEventListener("litgap:job-status", (event) => {
  status = event.detail.job.status;
  renderModelReview(event.detail.job);
  if (status === "completed") load();
});

// A link such as the agreement page's (…/jobs/{id}#evidence=Sub-1) opens that panel.
function openFromHash() {
  const match = /^#evidence=(.+)$/.exec(window.location.hash);
  if (match) openEvidence(decodeURIComponent(match[1]), true);
}
window.addEventListener("hashchange", openFromHash);

renderModelReview(pageData.job);
load().then(openFromHash);
