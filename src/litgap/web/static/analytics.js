// Decision analytics: per prompt type, how many, how fast, how often timed out or
// defaulted, and the answers given most, over a chosen time range.

import { api, clear, el, formatMs, setText, shownValue } from "./api.js";

const $ = (id) => document.getElementById(id);
const DAY = 24 * 3600 * 1000;

function rate(value) {
  if (value === null || value === undefined) return "—";
  return `${(Number(value) * 100).toFixed(1)} %`;
}

function localInput(date) {
  // datetime-local wants local wall time without a zone.
  const shifted = new Date(date.getTime() - date.getTimezoneOffset() * 60000);
  return shifted.toISOString().slice(0, 16);
}

function applyPreset() {
  const preset = $("range-preset").value;
  const custom = preset === "custom";
  $("range-since").disabled = !custom;
  $("range-until").disabled = !custom;
  if (preset === "all") {
    $("range-since").value = "";
    $("range-until").value = "";
  } else if (!custom) {
    const now = new Date();
    $("range-since").value = localInput(new Date(now.getTime() - Number(preset) * DAY));
    $("range-until").value = "";
  }
}

function query() {
  const params = new URLSearchParams();
  for (const [key, id] of [["since", "range-since"], ["until", "range-until"]]) {
    const value = $(id).value;
    if (value) params.set(key, new Date(value).toISOString());
  }
  const text = params.toString();
  return text ? `?${text}` : "";
}

function row(type) {
  const top = (type.top_responses || []).map((r) => el("li", {}, `${shownValue(r.response)} (${r.count})`));
  return el(
    "tr",
    {},
    el("th", { scope: "row", class: "mono" }, type.source === "llm" ? `${shownValue(type.type)} (model)` : shownValue(type.type)),
    el("td", { class: "num" }, shownValue(type.count)),
    el("td", { class: "num" }, formatMs(type.median_ms)),
    el("td", { class: "num" }, formatMs(type.p90_ms)),
    el("td", { class: "num" }, rate(type.timeout_rate)),
    el("td", { class: "num" }, rate(type.default_applied_rate)),
    el("td", {}, top.length ? el("ol", { class: "plain-list" }, top) : "—"),
  );
}

async function load() {
  setText("analytics-error", "");
  setText("analytics-status", "Loading…");
  try {
    const body = await api("GET", `/api/analytics/prompts${query()}`);
    const types = body.types || [];
    clear($("analytics-table").tBodies[0], ...types.map(row));
    $("analytics-empty").hidden = types.length > 0;
    setText("analytics-status", `Updated ${new Date().toLocaleTimeString()}.`);
  } catch (err) {
    setText("analytics-status", "");
    setText("analytics-error", err.detail || String(err));
  }
}

$("range-preset").addEventListener("change", () => {
  applyPreset();
  if ($("range-preset").value !== "custom") load();
});
$("range-form").addEventListener("submit", (event) => {
  event.preventDefault();
  load();
});
applyPreset();
load();
