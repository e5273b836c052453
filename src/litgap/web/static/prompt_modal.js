// The decision dialog: every pending prompt of every job, queued oldest first
// ("1 of 3"), none lost. Pending prompts come from GET /api/prompts and from each
// socket snapshot; prompt_request adds one, prompt_resolved removes one (answered in
// another tab, from the CLI, or timed out).

import { api, clear, el, events, jobUrl, me, shownValue, toast } from "./api.js";
import { buildChoices } from "./choices.js";

const $ = (id) => document.getElementById(id);
const dialog = $("prompt-dialog");
const form = $("prompt-form");
const tray = $("prompt-tray");
const trayButton = $("prompt-tray-open");
const canAnswer = Boolean(me && me.can_operate);

const pending = new Map(); // prompt_id -> pending prompt
const resolved = new Set(); // ids never to show again
const stale = new Map(); // prompt_id -> the 409/404 detail shown for it
let currentId = null;
let controls = null; // {value(), setDisabled()} of the prompt on screen
let hidden = !canAnswer; // viewers start with the tray, not the dialog
let submitting = null; // prompt_id of the answer in flight
let timer = null;
let needsFocus = false; // a new prompt was built: move focus to its first answer

function parseTime(iso) {
  // Stored times carry microseconds; Date wants milliseconds.
  return Date.parse(String(iso).replace(/(\.\d{3})\d+/, "$1"));
}

function ordered() {
  return [...pending.values()].sort(
    (a, b) =>
      parseTime(a.requested_at) - parseTime(b.requested_at) ||
      String(a.job_id).localeCompare(String(b.job_id)) ||
      a.seq - b.seq,
  );
}

function add(prompt, reveal) {
  if (!prompt || !prompt.prompt_id || resolved.has(prompt.prompt_id)) return;
  pending.set(prompt.prompt_id, prompt);
  if (reveal && canAnswer) hidden = false;
}

function remove(promptId, notice) {
  resolved.add(promptId);
  if (!pending.has(promptId)) return;
  if (stale.has(promptId)) return; // the user is reading why; it goes on the next move
  pending.delete(promptId);
  if (currentId === promptId) {
    currentId = null;
    if (notice) announce(notice);
  }
}

function purgeStale() {
  for (const promptId of stale.keys()) {
    pending.delete(promptId);
    if (currentId === promptId) currentId = null;
  }
  stale.clear();
}

function announce(text) {
  const notice = $("prompt-notice");
  notice.textContent = text;
  notice.hidden = false;
  toast(text);
}

function clock(ms) {
  const total = Math.max(0, Math.ceil(ms / 1000));
  const minutes = Math.floor(total / 60);
  const seconds = String(total % 60).padStart(2, "0");
  return `${minutes}:${seconds}`;
}

function tick() {
  const prompt = pending.get(currentId);
  const node = $("prompt-countdown");
  if (!prompt) {
    node.textContent = "";
    return;
  }
  const left = parseTime(prompt.deadline) - Date.now();
  const fallback = prompt.prompt_data ? prompt.prompt_data.default : null;
  const then =
    prompt.type === "evidence_review" && Array.isArray(fallback)
      ? `Then the ${fallback.length} passage(s) marked (default) are accepted, the others rejected.`
      : fallback !== null && fallback !== undefined
      ? `Then the default (${shownValue(fallback)}) is applied.`
      : "No default: without an answer the job stops.";
  node.textContent =
    left > 0 ? `Time left ${clock(left)}. ${then}` : "Time is up: the server applies the timeout.";
  node.classList.toggle("urgent", left < 30000);
}

// A screening prompt's paper: title, authors, year, DOI and the opening of its text.
function paperBlock(data) {
  const stage = data.stage === "full_text" ? "full text" : "title and abstract";
  const facts = [(data.authors || []).slice(0, 3).join(", "), data.year, data.doi && `doi:${data.doi}`]
    .filter(Boolean)
    .join(" · ");
  return el(
    "div",
    { class: "screening-paper" },
    el("p", {}, el("strong", { class: "paper-title" }, String(data.title || data.paper)), ` (${data.kind || "paper"}, screened on its ${stage})`),
    facts ? el("p", { class: "prompt-facts" }, facts) : null,
    data.abstract ? el("p", { class: "passage-text paper-abstract" }, String(data.abstract)) : null,
  );
}

function contextBlock(data) {
  const parts = [];
  if (data.paper !== undefined && Array.isArray(data.reasons)) parts.push(paperBlock(data));
  if (data.iteration !== undefined || data.gap_count !== undefined) {
    const facts = [];
    if (data.iteration !== undefined) facts.push(`Iteration ${data.iteration}`);
    if (data.gap_count !== undefined) facts.push(`${data.gap_count} gaps remain`);
    parts.push(el("p", { class: "prompt-facts" }, facts.join(" · ")));
  }
  const details = Array.isArray(data.details) ? data.details : [];
  if (details.length) {
    const columns = Object.keys(details[0]);
    const table = el(
      "table",
      { class: "compact" },
      el("thead", {}, el("tr", {}, columns.map((c) => el("th", { scope: "col" }, c)))),
      el(
        "tbody",
        {},
        details.map((row) => el("tr", {}, columns.map((c) => el("td", {}, shownValue(row[c]))))),
      ),
    );
    const total = data.details_total || details.length;
    parts.push(
      el(
        "details",
        {},
        el("summary", {}, `Gap changes since the last iteration (${total})`),
        el("div", { class: "table-wrap" }, table),
      ),
    );
  }
  return parts;
}

function readOnlyOptions(data) {
  const items = (data.options || []).map((option) =>
    el(
      "li",
      {},
      option,
      sameDefault(data.default, option) ? el("span", { class: "default-tag" }, "(default)") : null,
    ),
  );
  return el("div", {}, el("p", { class: "hint" }, "Options:"), el("ul", { class: "plain-list" }, items));
}

function sameDefault(fallback, option) {
  return Array.isArray(fallback) ? fallback.includes(option) : fallback === option;
}

// An evidence_review offers passages by evidence id: each choice shows the passage.
function passageBody(passage) {
  const page = passage.page ? ` · p. ${passage.page}` : "";
  const score = typeof passage.score === "number" ? ` · score ${passage.score.toFixed(4)}` : "";
  return el(
    "span",
    { class: "passage-choice-body" },
    el("strong", { class: "passage-title" }, `${shownValue(passage.title || passage.paper)}${page}${score}`),
    el("span", { class: "passage-text" }, String(passage.text || "")),
  );
}

function passageChoices(data) {
  const shown = new Map(data.passages.map((p) => [String(p.evidence_id), p]));
  const defaults = new Set(Array.isArray(data.default) ? data.default : []);
  const fieldset = el(
    "fieldset",
    { class: "choices passage-choices" },
    el("legend", {}, "Accept these passages (the others are rejected)"),
  );
  const inputs = data.options.map((option, index) => {
    const input = el("input", { type: "checkbox", id: `passage-choice-${index}`, value: option });
    input.checked = defaults.has(option);
    return input;
  });
  const selectAll = el("button", { type: "button", class: "small" }, "Select all");
  const clearAll = el("button", { type: "button", class: "small" }, "Clear");
  selectAll.addEventListener("click", () => inputs.forEach((i) => (i.checked = true)));
  clearAll.addEventListener("click", () => inputs.forEach((i) => (i.checked = false)));
  const list = el("div", { class: "choice-list" });
  data.options.forEach((option, index) => {
    const passage = shown.get(option) || { evidence_id: option, text: "" };
    list.append(
      el(
        "label",
        { for: inputs[index].id, class: "choice", "aria-label": `Passage ${index + 1}: ${shownValue(passage.title || passage.paper)}` },
        inputs[index],
        passageBody(passage),
        defaults.has(option) ? el("span", { class: "default-tag" }, "(default)") : null,
      ),
    );
  });
  fieldset.append(el("div", { class: "choice-tools" }, selectAll, clearAll), list);
  return {
    element: fieldset,
    value: () => inputs.filter((i) => i.checked).map((i) => i.value),
    setDisabled: (disabled) => {
      for (const control of fieldset.querySelectorAll("input, button")) control.disabled = disabled;
    },
  };
}

function readOnlyPassages(data) {
  return el(
    "div",
    { class: "passage-choices" },
    el("p", { class: "hint" }, "Passages to judge:"),
    el("ol", { class: "choice-list" }, data.passages.map((p) => el("li", { class: "choice" }, passageBody(p)))),
  );
}

function build(prompt) {
  const data = prompt.prompt_data || {};
  $("prompt-job").textContent = prompt.job_id;
  $("prompt-job").setAttribute("href", jobUrl(prompt.job_id));
  $("prompt-type").textContent = prompt.type;
  $("prompt-message").textContent = data.message || "(no message)";
  const drift = $("prompt-drift");
  drift.textContent = prompt.drift ? `Drift: ${prompt.drift}` : "";
  drift.hidden = !prompt.drift;
  clear($("prompt-context"), ...contextBlock(data));
  const choices = clear($("prompt-choices"));
  controls = null;
  const options = Array.isArray(data.options) ? data.options : [];
  const review = prompt.type === "evidence_review" && Array.isArray(data.passages) && options.length > 0;
  if (review) {
    if (canAnswer) {
      controls = passageChoices(data);
      choices.append(controls.element);
    } else choices.append(readOnlyPassages(data));
  } else if (!canAnswer) {
    if (options.length) choices.append(readOnlyOptions(data));
  } else if (options.length) {
    controls = buildChoices({
      legend: data.multiple ? "Your answer (choose one or more)" : "Your answer",
      options,
      multiple: Boolean(data.multiple),
      defaultValue: data.default,
    });
    choices.append(controls.element);
  } else {
    const input = el("textarea", { id: "prompt-text", rows: "3", required: true });
    choices.append(el("div", { class: "field" }, el("label", { for: "prompt-text" }, "Your answer"), input));
    controls = {
      value: () => input.value,
      setDisabled: (disabled) => {
        input.disabled = disabled;
      },
    };
  }
  $("prompt-note").value = "";
  $("prompt-note-field").hidden = !canAnswer;
  $("prompt-submit").hidden = !canAnswer;
  $("prompt-submit").disabled = false;
  $("prompt-submit").textContent = review ? "Accept these" : "Submit answer";
  $("prompt-readonly").hidden = canAnswer;
  $("prompt-error").textContent = "";
  $("prompt-hide").textContent = "Later";
  needsFocus = true;
  tick();
}

function focusAnswer() {
  if (!needsFocus || !dialog.open) return;
  needsFocus = false;
  const target =
    dialog.querySelector("#prompt-choices input:checked") ||
    dialog.querySelector("#prompt-choices input, #prompt-choices textarea") ||
    $("prompt-hide");
  target.focus();
}

function render() {
  const list = ordered();
  if (!list.length) {
    currentId = null;
    controls = null;
    if (dialog.open) dialog.close();
    tray.hidden = true;
    clearInterval(timer);
    timer = null;
    return;
  }
  if (!currentId || !pending.has(currentId)) {
    currentId = list[0].prompt_id;
    build(pending.get(currentId));
  }
  const index = list.findIndex((p) => p.prompt_id === currentId);
  $("prompt-position").textContent = `${index + 1} of ${list.length}`;
  $("prompt-prev").hidden = list.length < 2;
  $("prompt-next").hidden = list.length < 2;
  $("prompt-prev").disabled = index === 0;
  $("prompt-next").disabled = index === list.length - 1;
  trayButton.textContent =
    list.length === 1 ? "1 decision waiting" : `${list.length} decisions waiting`;
  if (!timer) timer = setInterval(tick, 1000);
  if (hidden) {
    if (dialog.open) dialog.close();
    tray.hidden = false;
  } else {
    tray.hidden = true;
    if (!dialog.open) dialog.showModal();
    focusAnswer();
  }
}

function move(step) {
  purgeStale();
  $("prompt-notice").hidden = true;
  const list = ordered();
  if (!list.length) return render();
  const index = Math.max(0, list.findIndex((p) => p.prompt_id === currentId));
  const target = list[Math.min(list.length - 1, Math.max(0, index + step))];
  currentId = target.prompt_id;
  build(target);
  render();
}

async function submit(event) {
  event.preventDefault();
  const prompt = pending.get(currentId);
  if (!prompt || !controls || submitting || stale.has(prompt.prompt_id)) return;
  const response = controls.value();
  const error = $("prompt-error");
  if (response === null) {
    error.textContent = "Choose an option first.";
    return;
  }
  const note = $("prompt-note").value.trim();
  submitting = prompt.prompt_id;
  $("prompt-submit").disabled = true;
  error.textContent = "";
  $("prompt-notice").hidden = true;
  try {
    const body = note ? { response, note } : { response };
    await api("POST", `/api/prompts/${encodeURIComponent(prompt.prompt_id)}/respond`, body);
    remove(prompt.prompt_id);
    render();
  } catch (err) {
    const detail = err.detail || String(err);
    if (currentId !== prompt.prompt_id) {
      // Resolved elsewhere while our answer was on its way; another prompt is shown.
      announce(detail);
    } else if (err.status === 409 || err.status === 404) {
      error.textContent = detail;
      // Someone else was first (or it is gone): keep it on screen with the reason.
      stale.set(prompt.prompt_id, err.detail);
      resolved.add(prompt.prompt_id);
      if (controls) controls.setDisabled(true);
      $("prompt-hide").textContent = "Close";
    } else {
      error.textContent = detail;
      $("prompt-submit").disabled = false;
    }
  } finally {
    submitting = null;
  }
}

function resolvedNotice(data) {
  const who = data.answered_by ? ` by ${data.answered_by}` : "";
  const via = data.source ? ` (${data.source})` : "";
  const how = { answered: `answered${who}${via}`, timed_out: "timed out", cancelled: "cancelled" };
  const status = how[data.status] || data.status || "resolved";
  return `${data.type || "The decision"} for ${data.job_id} was ${status}.`;
}

async function loadPending() {
  try {
    const body = await api("GET", "/api/prompts?status=pending");
    for (const prompt of body.prompts || []) add(prompt, false);
    render();
  } catch (err) {
    toast(`Could not load pending decisions: ${err.detail || err}`, "error");
  }
}

export function startPrompts() {
  if (!dialog) return;
  form.addEventListener("submit", submit);
  $("prompt-prev").addEventListener("click", () => move(-1));
  $("prompt-next").addEventListener("click", () => move(1));
  $("prompt-hide").addEventListener("click", () => {
    hidden = true;
    purgeStale();
    render();
  });
  dialog.addEventListener("cancel", (event) => {
    // Escape hides the dialog; the decisions stay waiting in the tray.
    event.preventDefault();
    hidden = true;
    purgeStale();
    render();
  });
  trayButton.addEventListener("click", () => {
    hidden = false;
    render();
  });
  document.addEventListener("litgap:show-prompt", (event) => {
    const promptId = event.detail && event.detail.prompt_id;
    if (!pending.has(promptId)) return;
    hidden = false;
    currentId = promptId;
    build(pending.get(promptId));
    render();
  });

  events.on("snapshot", (data) => {
    const fresh = new Set((data.pending_prompts || []).map((p) => p.prompt_id));
    for (const promptId of [...pending.keys()]) {
      if (!fresh.has(promptId)) remove(promptId); // resolved while we were away
    }
    for (const prompt of data.pending_prompts || []) add(prompt, false);
    render();
  });
  events.on("prompt_request", (prompt) => {
    add(prompt, true);
    render();
  });
  events.on("prompt_resolved", (data) => {
    // Our own answer needs no notice; anyone else's (CLI, another tab) does.
    const shown = currentId === data.prompt_id && submitting !== data.prompt_id;
    remove(data.prompt_id, shown ? resolvedNotice(data) : null);
    render();
  });
  loadPending();
}

export function pendingFor(jobId) {
  return ordered().filter((p) => p.job_id === jobId);
}
