// The User Decisions section of a job: a timeline of its prompt records, filtered by
// type and free text on the page, and the what-if form that feeds a replay.

import {
  clear,
  context,
  decisionBadges,
  decisionLabel,
  el,
  formatMs,
  sameValue,
  shownValue,
  timeElement,
} from "./api.js";
import { buildChoices } from "./choices.js";

const $ = (id) => document.getElementById(id);
const COLUMNS = 7;

function answeredBy(record) {
  if (record.answered_by) return record.answered_by;
  if (record.source === "timeout_default" || record.status === "timed_out") return "no one (timeout)";
  if (record.source === "replay") return "replay";
  return record.source || "—";
}

// Readable names for types whose raw name says little to a reader.
export const TYPE_TEXT = { evidence_review: "Evidence review", screening: "Screening" };

function typeCell(type) {
  return TYPE_TEXT[type] ? el("td", { title: type }, TYPE_TEXT[type]) : el("td", { class: "mono" }, type);
}

// A model's verdict (prompt_data.llm): its label as a reviewer's verdict, when it is one.
const MODEL_VERDICT = { supports: "accept", does_not_support: "reject" };
const isModel = (record) => Boolean((record.prompt_data || {}).llm);
const modelLabel = (record) => String(record.prompt_data.llm.label || "").replaceAll("_", " ");

/** An evidence_review's verdicts: each judged passage, accepted or rejected (a model's
 * "unclear", malformed or refused answer is no verdict). */
function evidenceVerdicts(record) {
  const data = record.prompt_data || {};
  if (isModel(record)) {
    const verdict = MODEL_VERDICT[data.llm.label] || "none";
    return (Array.isArray(data.passages) ? data.passages : []).map((passage) => ({ passage, verdict }));
  }
  const applied = record.applied ?? record.response;
  const accepted = new Set(Array.isArray(applied) ? applied : applied ? [applied] : []);
  return (Array.isArray(data.passages) ? data.passages : []).map((passage) => ({
    passage,
    verdict: accepted.has(passage.evidence_id) ? "accept" : "reject",
  }));
}

function evidenceDetail(record) {
  const data = record.prompt_data || {};
  const items = evidenceVerdicts(record).map(({ passage, verdict }) =>
    el(
      "li",
      { dataset: { evidenceId: String(passage.evidence_id) } },
      verdict === "none"
        ? el("span", { class: "badge muted" }, `No verdict (${modelLabel(record)})`)
        : el("span", { class: `badge ${verdict === "accept" ? "ok" : "bad"}` }, verdict === "accept" ? "Accepted" : "Rejected"),
      ` ${shownValue(passage.title || passage.paper)}${passage.page ? `, p. ${passage.page}` : ""}: `,
      el("q", {}, String(passage.text || "").slice(0, 160)),
      passage.note ? el("em", {}, ` — ${passage.note}`) : null,
    ),
  );
  return el(
    "div",
    { class: "evidence-verdicts" },
    el("span", { class: "mono" }, shownValue(data.sub_requirement)),
    ` ${shownValue(data.text)}`,
    el("ul", { class: "plain-list" }, items),
  );
}

function responseCell(record) {
  if (isModel(record)) return el("td", { class: "response" }, `Model: ${modelLabel(record)}`);
  if (record.type === "evidence_review" && Array.isArray((record.prompt_data || {}).passages)) {
    const verdicts = evidenceVerdicts(record);
    const accepted = verdicts.filter((v) => v.verdict === "accept").length;
    return el("td", { class: "response" }, `${accepted} accepted, ${verdicts.length - accepted} rejected`);
  }
  const cell = el("td", { class: "response" }, el("span", {}, shownValue(record.response)));
  if (!sameValue(record.applied, record.response) && record.applied !== undefined) {
    cell.append(el("div", { class: "hint" }, `applied: ${shownValue(record.applied)}`));
  }
  return cell;
}

function detailRow(record) {
  const data = record.prompt_data || {};
  const parts = [el("span", { class: "message" }, data.message || "(no message)")];
  if (record.type === "evidence_review" && Array.isArray(data.passages)) parts.push(evidenceDetail(record));
  if (record.note) {
    const label = isModel(record) ? "Model's reason: " : "Note: ";
    parts.push(el("span", { class: "note" }, el("strong", {}, label), record.note));
  }
  if (isModel(record)) {
    const llm = data.llm;
    const tokens = Number(llm.prompt_tokens || 0) + Number(llm.completion_tokens || 0);
    const cost = llm.cached ? "from the cache" : `${llm.calls} call${llm.calls === 1 ? "" : "s"}, ${tokens} tokens, ${Math.round(Number(llm.latency_ms || 0))} ms`;
    parts.push(
      el("span", { class: "hint model-facts" }, `${shownValue(llm.model)} · template ${shownValue(llm.template)} · ${cost} · request ${String(llm.request_hash || "").slice(0, 12)}`),
    );
  }
  if (record.replayed_from) {
    parts.push(el("span", { class: "hint" }, `Replayed from ${record.replayed_from}`));
  }
  if (record.drift) parts.push(el("span", { class: "hint warn-text" }, String(record.drift)));
  if (record.source && record.source !== "user") {
    parts.push(el("span", { class: "hint" }, `Source: ${record.source}`));
  }
  return el("tr", { class: "decision-detail" }, el("td", { colspan: String(COLUMNS) }, parts));
}

function haystack(record) {
  const data = record.prompt_data || {};
  return [
    record.type,
    shownValue(record.response),
    shownValue(record.applied),
    data.message || "",
    record.note || "",
    record.answered_by || "",
    record.source || "",
    record.status || "",
    decisionLabel(record),
    record.drift ? `drift ${record.drift}` : "",
    isModel(record) ? `llm model ${record.prompt_data.llm.model || ""} ${record.prompt_data.llm.label || ""}` : "",
    TYPE_TEXT[record.type] || "",
    // An evidence review is found by its sub-requirement and the passages judged.
    data.sub_requirement || "",
    data.text || "",
    ...(Array.isArray(data.passages) ? data.passages : []).flatMap((p) => [p.title || "", p.text || "", p.note || ""]),
  ]
    .join("\n")
    .replace(/\s+/g, " ") // a passage's line breaks match the spaces a search types
    .toLocaleLowerCase();
}

function recordBody(record) {
  const type = record.type;
  return el(
    "tbody",
    { class: "decision", dataset: { type, promptId: record.prompt_id || "" } },
    el(
      "tr",
      {},
      el("td", { class: "num" }, String((record.seq ?? 0) + 1)),
      el("td", {}, timeElement(record.timestamp || record.requested_at)),
      typeCell(type),
      responseCell(record),
      el(
        "td",
        { class: "badges" },
        decisionBadges(record),
        isModel(record) ? el("span", { class: "badge info", title: "A model's verdict" }, "Model") : null,
      ),
      el("td", {}, answeredBy(record)),
      el("td", { class: "num" }, formatMs(record.response_time_ms)),
    ),
    detailRow(record),
  );
}

export class DecisionTimeline {
  constructor() {
    this.records = [];
    this.bodies = [];
    $("decision-type").addEventListener("change", () => this.filter());
    $("decision-source").addEventListener("change", () => this.filter());
    $("decision-search").addEventListener("input", () => this.filter());
  }

  render(records) {
    this.records = records;
    const has = records.length > 0;
    $("no-history").hidden = has;
    $("decision-body").hidden = !has;
    const select = $("decision-type");
    const known = new Set([...select.options].map((o) => o.value));
    for (const option of select.options) {
      if (TYPE_TEXT[option.value]) option.textContent = TYPE_TEXT[option.value];
    }
    for (const record of records) {
      if (!known.has(record.type)) {
        select.append(el("option", { value: record.type }, TYPE_TEXT[record.type] || record.type));
        known.add(record.type);
      }
    }
    const table = $("decision-table");
    // tBodies is live: remove from the front until none is left.
    while (table.tBodies.length) table.tBodies[0].remove();
    this.bodies = records.map((record) => ({ record, body: recordBody(record), text: haystack(record) }));
    table.append(...this.bodies.map((b) => b.body));
    this.filter();
  }

  filter() {
    const type = $("decision-type").value;
    const source = $("decision-source").value;
    const needle = $("decision-search").value.trim().replace(/\s+/g, " ").toLocaleLowerCase();
    let shown = 0;
    for (const { record, body, text } of this.bodies) {
      // "llm" also finds a replay's copies of the model's verdicts.
      const fromSource = !source || record.source === source || (source === "llm" && isModel(record));
      const visible = (!type || record.type === type) && fromSource && (!needle || text.includes(needle));
      body.hidden = !visible;
      if (visible) shown += 1;
    }
    const total = this.bodies.length;
    $("decision-none").hidden = !total || shown > 0;
    $("decision-count").textContent = !total
      ? ""
      : shown === total
        ? `${total} decision${total === 1 ? "" : "s"}`
        : `Showing ${shown} of ${total} decisions`;
  }
}

/** The what-if form: one control per recorded decision, starting at what was applied. */
export class WhatIf {
  constructor(onReplay) {
    this.controls = [];
    this.signature = "";
    $("what-if-replay").addEventListener("click", () => onReplay(this.overrides()));
  }

  render(records, enabled) {
    const details = $("what-if");
    // A model's verdict is no one's answer to change: a revision takes it or not.
    const answerable = records.filter((r) => Array.isArray((r.prompt_data || {}).options) && !isModel(r));
    details.hidden = !enabled || !answerable.length;
    const signature = JSON.stringify(answerable.map((r) => r.prompt_id));
    if (signature === this.signature) return; // keep what the user has changed
    this.signature = signature;
    const box = clear($("what-if-choices"));
    this.controls = answerable.map((record) => {
      const data = record.prompt_data;
      const control = buildChoices({
        legend: `#${(record.seq ?? 0) + 1} ${record.type}: ${data.message || ""}`,
        options: data.options,
        multiple: Boolean(data.multiple),
        defaultValue: data.default,
        selected: record.applied ?? record.response,
      });
      box.append(control.element);
      return { record, control };
    });
  }

  overrides() {
    const changed = {};
    for (const { record, control } of this.controls) {
      const value = control.value();
      if (value === null || (Array.isArray(value) && !value.length)) continue;
      if (!sameValue(value, record.applied ?? record.response)) changed[record.prompt_id] = value;
    }
    return changed;
  }
}

export const NO_HISTORY = context.no_history;
