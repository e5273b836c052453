// Shared by every page: the page's JSON data, fetch with the CSRF header, the live
// event socket, and DOM helpers that only ever write text (never innerHTML).

export function readJson(id) {
  const node = document.getElementById(id);
  if (!node || !node.textContent) return null;
  return JSON.parse(node.textContent);
}

export const context = readJson("litgap-context") || {};
export const me = context.me || null;
export const pageData = readJson("page-data") || {};

// -- HTTP ---------------------------------------------------------------------------

export class ApiError extends Error {
  constructor(status, detail) {
    super(detail);
    this.status = status;
    this.detail = detail;
  }
}

function detailOf(data, response) {
  if (data && typeof data.detail === "string") return data.detail;
  if (data && data.detail !== undefined) return JSON.stringify(data.detail);
  return `${response.status} ${response.statusText || "error"}`.trim();
}

/** Call the JSON API; resolves to the parsed body, rejects with ApiError(status, detail). */
export async function api(method, path, body) {
  const headers = { Accept: "application/json" };
  let payload;
  if (body instanceof FormData) {
    payload = body;
  } else if (body !== undefined) {
    headers["Content-Type"] = "application/json";
    payload = JSON.stringify(body);
  }
  if (method !== "GET" && me && me.csrf_token) headers["X-CSRF-Token"] = me.csrf_token;
  let response;
  try {
    response = await fetch(path, { method, headers, body: payload, credentials: "same-origin" });
  } catch (err) {
    throw new ApiError(0, `The server cannot be reached (${err.message}).`);
  }
  let data = null;
  if ((response.headers.get("content-type") || "").includes("application/json")) {
    data = await response.json().catch(() => null);
  }
  if (response.status === 401 && me) {
    // The session ended (expired, signed out elsewhere): back to the sign-in page.
    window.location.assign("/login");
  }
  if (!response.ok) throw new ApiError(response.status, detailOf(data, response));
  return data;
}

export function jobUrl(jobId) {
  return `/jobs/${encodeURIComponent(jobId)}`;
}

export function apiJobUrl(jobId, rest = "") {
  return `/api/jobs/${encodeURIComponent(jobId)}${rest}`;
}

// -- DOM ------------------------------------------------------------------------------

/**
 * Build an element. Strings among `children` become text nodes; `text` sets
 * textContent. Attributes are set with setAttribute, handlers with addEventListener.
 */
export function el(tag, props = {}, ...children) {
  const node = document.createElement(tag);
  for (const [key, value] of Object.entries(props)) {
    if (value === undefined || value === null || value === false) continue;
    if (key === "class") node.className = value;
    else if (key === "text") node.textContent = String(value);
    else if (key === "dataset") Object.assign(node.dataset, value);
    else if (key.startsWith("on") && typeof value === "function") {
      node.addEventListener(key.slice(2), value);
    } else if (value === true) node.setAttribute(key, "");
    else node.setAttribute(key, String(value));
  }
  for (const child of children.flat(Infinity)) {
    if (child === null || child === undefined || child === false) continue;
    node.append(child instanceof Node ? child : String(child));
  }
  return node;
}

/** Append children, skipping null, undefined and false (append would write "null"). */
export function add(node, ...children) {
  for (const child of children.flat(Infinity)) {
    if (child !== null && child !== undefined && child !== false) node.append(child);
  }
  return node;
}

export function clear(node, ...children) {
  node.replaceChildren();
  return add(node, ...children);
}

export function setText(id, text) {
  const node = document.getElementById(id);
  if (node) node.textContent = text || "";
  return node;
}

/** A short-lived message in the page's live region (outside any dialog). */
export function toast(text, kind = "info") {
  const box = document.getElementById("toasts");
  if (!box) return;
  const item = el("div", { class: `toast ${kind}` }, el("span", { text }));
  const close = el("button", { type: "button", class: "link-button", "aria-label": "Dismiss" }, "×");
  close.addEventListener("click", () => item.remove());
  item.append(close);
  box.append(item);
  setTimeout(() => item.remove(), 10000);
}

// -- formatting --------------------------------------------------------------------------

export function formatTime(iso) {
  if (!iso) return "—";
  const date = new Date(iso);
  if (Number.isNaN(date.getTime())) return String(iso);
  return date.toLocaleString(undefined, {
    year: "numeric", month: "short", day: "numeric",
    hour: "2-digit", minute: "2-digit", second: "2-digit",
  });
}

export function timeElement(iso) {
  return el("time", { datetime: iso || undefined, title: iso || undefined }, formatTime(iso));
}

export function formatMs(ms) {
  if (ms === null || ms === undefined) return "—";
  if (ms < 1000) return `${Math.round(ms)} ms`;
  const seconds = ms / 1000;
  if (seconds < 60) return `${seconds.toFixed(1)} s`;
  const minutes = Math.floor(seconds / 60);
  return `${minutes} min ${Math.round(seconds % 60)} s`;
}

/** One duplicate an upload's screening found, as the job page words it. */
export function duplicateText(d) {
  return `${d.paper} = ${d.duplicate_of} (${d.reason}${d.kept ? ", kept" : ", left out"})`;
}

export function formatPercent(value, digits = 1) {
  if (value === null || value === undefined || Number.isNaN(Number(value))) return "—";
  return `${Number(value).toFixed(digits)} %`;
}

export function formatBytes(size) {
  if (size === null || size === undefined) return "—";
  if (size < 1024) return `${size} B`;
  if (size < 1024 * 1024) return `${(size / 1024).toFixed(1)} KB`;
  return `${(size / 1024 / 1024).toFixed(1)} MB`;
}

/** A value as one line of text: lists joined, objects as JSON, nothing as a dash. */
export function shownValue(value) {
  if (value === null || value === undefined) return "—";
  if (Array.isArray(value)) return value.length ? value.map((v) => shownValue(v)).join(", ") : "—";
  if (typeof value === "object") return Object.keys(value).length ? JSON.stringify(value) : "—";
  return String(value);
}

export function sameValue(a, b) {
  return JSON.stringify(a ?? null) === JSON.stringify(b ?? null);
}

/** The badge of a decision; the same vocabulary as litgap.records.decision_label. */
export function decisionLabel(record) {
  if (record.status === "cancelled") return "Cancelled";
  if (record.status === "timed_out") {
    return record.applied !== null && record.applied !== undefined ? "Default applied" : "Timed out";
  }
  if (record.source === "replay") return "Replayed";
  return "Responded";
}

const LABEL_CLASS = {
  Responded: "ok",
  Replayed: "info",
  "Default applied": "warn",
  "Timed out": "bad",
  Cancelled: "muted",
};

export function decisionBadges(record) {
  const label = decisionLabel(record);
  const badges = [el("span", { class: `badge ${LABEL_CLASS[label] || ""}` }, label)];
  if (record.drift) {
    badges.push(el("span", { class: "badge warn", title: String(record.drift) }, "Drift"));
  }
  return badges;
}

export const STATUS_TEXT = {
  draft: "Draft",
  queued: "Queued",
  running: "Running",
  waiting_input: "Waiting for input",
  completed: "Completed",
  failed: "Failed",
  cancelled: "Cancelled",
  interrupted: "Interrupted",
};

export function statusBadge(status) {
  return el(
    "span",
    { class: `badge status status-${status || "unknown"}`, dataset: { status: status || "" } },
    STATUS_TEXT[status] || String(status || "unknown"),
  );
}

export const ACTIVE = new Set(["queued", "running", "waiting_input"]);
export const STARTABLE = new Set(["draft", "interrupted"]);
export const CANCELLABLE = new Set(["draft", "queued", "running", "waiting_input"]);

// -- live events ---------------------------------------------------------------------

/**
 * One WebSocket per page: a snapshot on every (re)connect, then job_update,
 * prompt_request and prompt_resolved. Reconnects with exponential backoff and jitter.
 * A handler registered after the snapshot arrived gets the latest one at once.
 */
class EventStream {
  constructor() {
    this.handlers = new Map();
    this.snapshot = null;
    this.state = "connecting";
    this.attempt = 0;
    this.socket = null;
    this.timer = null;
    this.stopped = false;
  }

  on(type, handler) {
    if (!this.handlers.has(type)) this.handlers.set(type, []);
    this.handlers.get(type).push(handler);
    if (type === "snapshot" && this.snapshot) handler(this.snapshot);
    if (type === "state") handler(this.state);
  }

  emit(type, data) {
    for (const handler of this.handlers.get(type) || []) {
      try {
        handler(data);
      } catch (err) {
        console.error(`litgap: ${type} handler failed`, err);
      }
    }
  }

  setState(state) {
    this.state = state;
    this.emit("state", state);
  }

  start() {
    if (this.socket || this.timer) return;
    window.addEventListener("pagehide", () => {
      this.stopped = true;
      if (this.socket) this.socket.close();
    });
    window.addEventListener("online", () => this.reconnectNow());
    document.addEventListener("visibilitychange", () => {
      if (document.visibilityState === "visible") this.reconnectNow();
    });
    this.connect();
  }

  reconnectNow() {
    if (this.socket || this.stopped) return;
    clearTimeout(this.timer);
    this.timer = null;
    this.attempt = 0;
    this.connect();
  }

  connect() {
    this.timer = null;
    const scheme = window.location.protocol === "https:" ? "wss:" : "ws:";
    const socket = new WebSocket(`${scheme}//${window.location.host}/ws`);
    this.socket = socket;
    socket.addEventListener("message", (event) => {
      let message;
      try {
        message = JSON.parse(event.data);
      } catch {
        return;
      }
      if (message.type === "snapshot") {
        this.attempt = 0;
        this.snapshot = message.data;
        this.setState("live");
      }
      this.emit(message.type, message.data);
    });
    socket.addEventListener("close", () => {
      if (this.socket === socket) this.socket = null;
      if (this.stopped) return;
      this.setState("reconnecting");
      this.scheduleReconnect();
    });
  }

  async scheduleReconnect() {
    this.attempt += 1;
    const base = Math.min(30000, 500 * 2 ** (this.attempt - 1));
    const delay = base * (0.75 + Math.random() * 0.5);
    if (this.attempt >= 2) {
      // A socket refused again and again may mean the session is gone.
      try {
        await api("GET", "/api/me");
      } catch (err) {
        if (err.status === 401) return;
      }
    }
    if (!this.stopped && !this.socket) this.timer = setTimeout(() => this.connect(), delay);
  }
}

export const events = new EventStream();
