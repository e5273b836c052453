// Two jobs side by side: decisions, config, completeness per pillar, gaps added and
// removed, and whether the second reproduced the first exactly.

import { api, apiJobUrl, clear, el, formatPercent, pageData, setText, shownValue } from "./api.js";

const $ = (id) => document.getElementById(id);
const VERDICT_CLASS = { same: "ok", changed: "warn", only_a: "bad", only_b: "bad" };
const VERDICT_TEXT = { same: "Same", changed: "Changed", only_a: "Only in the first", only_b: "Only in the second" };

function decided(value) {
  // A side may be a whole record or just the value it applied.
  if (value && typeof value === "object" && !Array.isArray(value)) {
    if ("applied" in value) return shownValue(value.applied);
    if ("response" in value) return shownValue(value.response);
  }
  return shownValue(value);
}

function fill(tableId, emptyId, rows) {
  const body = clear($(tableId).tBodies[0]);
  body.append(...rows);
  $(emptyId).hidden = rows.length > 0;
}

function delta(value) {
  if (value === null || value === undefined || Number.isNaN(Number(value))) return "—";
  const number = Number(value);
  const sign = number > 0 ? "+" : "";
  return `${sign}${number.toFixed(1)}`;
}

function itemText(item) {
  if (item && typeof item === "object" && !Array.isArray(item)) {
    const id = [item.id ?? item.sub_requirement ?? "", item.text].filter(Boolean).join(": ");
    const rest = [];
    if (item.pillar) rest.push(item.pillar);
    if (item.completeness !== undefined) rest.push(formatPercent(item.completeness));
    return id ? `${id}${rest.length ? ` (${rest.join(", ")})` : ""}` : shownValue(item);
  }
  return shownValue(item);
}

function subsTable(rows) {
  if (!rows.length) return el("p", { class: "empty" }, "No sub-requirement changed.");
  const head = ["Sub-requirement", "Pillar", "First", "Second", "Change"];
  return el(
    "div",
    { class: "table-wrap" },
    el(
      "table",
      { class: "compact" },
      el("thead", {}, el("tr", {}, head.map((c) => el("th", { scope: "col" }, c)))),
      el(
        "tbody",
        {},
        rows.map((row) =>
          el(
            "tr",
            {},
            el("td", { class: "mono" }, shownValue(row.id ?? row.sub_requirement)),
            el("td", {}, shownValue(row.pillar)),
            el("td", { class: "num" }, formatPercent(row.a)),
            el("td", { class: "num" }, formatPercent(row.b)),
            el("td", { class: "num" }, delta(row.delta)),
          ),
        ),
      ),
    ),
  );
}

function list(id, items) {
  const node = clear($(id));
  if (!items.length) node.append(el("li", { class: "empty" }, "None."));
  for (const item of items) node.append(el("li", {}, itemText(item)));
}

function render(diff) {
  const verdict = $("diff-verdict");
  clear(verdict,
    el("strong", { class: diff.reproduced ? "ok-text" : "warn-text" }, diff.reproduced ? "Reproduced exactly" : "Not reproduced exactly"),
    diff.verdict ? ` · ${diff.verdict}` : "",
  );
  fill(
    "diff-decisions",
    "diff-decisions-empty",
    (diff.decisions || []).map((d) =>
      el(
        "tr",
        {},
        el("td", { class: "mono" }, shownValue(d.type)),
        el("td", { class: "num" }, shownValue(d.occurrence)),
        el("td", {}, decided(d.a)),
        el("td", {}, decided(d.b)),
        el("td", {}, el("span", { class: `badge ${VERDICT_CLASS[d.verdict] || ""}` }, VERDICT_TEXT[d.verdict] || shownValue(d.verdict))),
      ),
    ),
  );
  const configRows = (diff.config || []).map((c) =>
    el("tr", {}, el("td", { class: "mono" }, shownValue(c.key)), el("td", {}, shownValue(c.a)), el("td", {}, shownValue(c.b))),
  );
  for (const input of diff.inputs || []) {
    configRows.push(
      el(
        "tr",
        {},
        el("td", { class: "mono" }, `input ${shownValue(input.path)}`),
        el("td", { class: "mono" }, shownValue(input.a)),
        el("td", { class: "mono" }, shownValue(input.b)),
      ),
    );
  }
  fill("diff-config", "diff-config-empty", configRows);
  const results = diff.results || {};
  const overall = results.overall && (results.overall.a !== null || results.overall.b !== null)
    ? [{ pillar: "Overall", ...results.overall }]
    : [];
  if (Array.isArray(results.missing) && results.missing.length) {
    setText("diff-error", `No results to compare for ${results.missing.join(" and ")}.`);
  }
  fill(
    "diff-pillars",
    "diff-pillars-empty",
    [...overall, ...(results.pillars || [])].map((p) =>
      el(
        "tr",
        {},
        el("td", {}, shownValue(p.pillar)),
        el("td", { class: "num" }, formatPercent(p.a)),
        el("td", { class: "num" }, formatPercent(p.b)),
        el("td", { class: "num" }, delta(p.delta)),
      ),
    ),
  );
  clear($("diff-subs"), subsTable(results.subrequirements || []));
  list("gaps-added", results.gaps_added || []);
  list("gaps-removed", results.gaps_removed || []);
  $("diff-body").hidden = false;
}

async function load() {
  try {
    render(await api("GET", apiJobUrl(pageData.a, `/diff/${encodeURIComponent(pageData.b)}`)));
  } catch (err) {
    setText("diff-verdict", "");
    setText("diff-error", err.detail || String(err));
  }
}

load();
