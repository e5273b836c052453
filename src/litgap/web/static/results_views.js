// Job page, charts and suggested searches: each chart as an image with its text
// alternative (read from the SVG's own <desc>), and under each gap its four queries
// with a copy button. Writes with textContent only (el), never innerHTML.

import { api, apiJobUrl, clear, el, pageData, toast } from "./api.js";

const $ = (id) => document.getElementById(id);
let job = pageData.job;
const jobId = job.job_id;
// completeness.svg is in the Results card already.
const CHARTS = [
  "pillars_radar.svg",
  "papers_heatmap.svg",
  "iterations.svg",
  "evidence_by_year.svg",
];
const QUERIES = [
  ["plain", "Plain"],
  ["boolean", "Boolean"],
  ["pubmed", "PubMed"],
  ["scopus", "Scopus"],
];
let shown = false;

// The SVG is not parsed as a document: its own <style> would count as inline style
// under the page's CSP. Our renderer writes <title> and <desc> first, escaping only
// & < > (xml.sax.saxutils.escape), so those three are all there is to decode.
function unescapeXml(text) {
  return text.replaceAll("&lt;", "<").replaceAll("&gt;", ">").replaceAll("&amp;", "&");
}

async function textAlternative(url) {
  const response = await fetch(url, { credentials: "same-origin" });
  if (!response.ok) return { title: "", alt: "" };
  const text = await response.text();
  const title = /<title id="chart-title">([^<]*)<\/title>/.exec(text);
  const desc = /<desc id="chart-desc">([^<]*)<\/desc>/.exec(text);
  return {
    title: title ? unescapeXml(title[1]) : "",
    alt: desc ? unescapeXml(desc[1]) : "",
  };
}

async function renderCharts(files) {
  const box = $("results-charts");
  clear(box);
  for (const name of CHARTS.filter((n) => files.includes(n))) {
    const url = apiJobUrl(jobId, `/results/${name}`);
    const { title, alt } = await textAlternative(url);
    const img = el("img", { src: url, alt: alt || name, class: "result-chart" });
    box.append(
      el(
        "figure",
        { class: "chart", "data-chart": name },
        img,
        el("figcaption", {}, el("strong", {}, title || name), " ", alt),
      ),
    );
  }
}

async function copy(text, button) {
  try {
    await navigator.clipboard.writeText(text);
  } catch {
    // Without clipboard permission (plain HTTP, a denied prompt) the text is selected
    // instead, for the user to copy by hand.
    const code = button.previousElementSibling;
    window.getSelection().selectAllChildren(code);
    toast("Selected: press Ctrl+C to copy");
    return;
  }
  button.textContent = "Copied";
  setTimeout(() => {
    button.textContent = "Copy";
  }, 1500);
}

function queryRow(label, text, gapId) {
  const code = el("code", { class: "query" }, text);
  const button = el(
    "button",
    { type: "button", class: "copy-button", "aria-label": `Copy ${label} search for ${gapId}` },
    "Copy",
  );
  button.addEventListener("click", () => copy(text, button));
  return el("div", { class: "query-row" }, el("span", { class: "query-label" }, label), code, button);
}

function renderSearches(gaps) {
  const box = $("results-searches");
  clear(box);
  $("results-searches-title").hidden = gaps.length === 0;
  for (const gap of gaps) {
    if (!gap.searches) continue;
    const rows = QUERIES.map(([key, label]) => queryRow(label, gap.searches[key], gap.id));
    box.append(
      el(
        "article",
        { class: "gap-searches", "data-gap": gap.id },
        el("h4", {}, `${gap.id}: ${gap.text}`),
        el("p", { class: "hint" }, `${gap.pillar} · ${Number(gap.completeness).toFixed(1)}%`),
        ...rows,
      ),
    );
  }
}

async function render() {
  const files = job.result_files || [];
  if (shown || !files.includes("gap_analysis_report.json")) return;
  shown = true;
  $("results-views-empty").hidden = true;
  $("results-views-report").hidden = !files.includes("report.html");
  await renderCharts(files);
  const report = await api("GET", apiJobUrl(jobId, "/results/gap_analysis_report.json"));
  renderSearches(report.gaps || []);
  const notes = $("results-chart-notes");
  if (!files.includes("evidence_by_year.svg")) {
    notes.textContent = "No chart of evidence by publication year: no paper has a known year.";
    notes.hidden = false;
  }
}

document.addEventListener("litgap:job-status", (event) => {
  job = event.detail.job;
  if (job.status === "completed") render();
});

render();
