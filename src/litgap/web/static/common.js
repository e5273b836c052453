// Every signed-in page: the connection indicator, signing out, the decision dialog,
// and the event socket they all listen to.

import { api, events, toast } from "./api.js";
import { startPrompts } from "./prompt_modal.js";

const STATE_TEXT = { connecting: "Connecting…", live: "Live", reconnecting: "Reconnecting…" };

const live = document.getElementById("live-status");
if (live) {
  events.on("state", (state) => {
    live.textContent = STATE_TEXT[state] || state;
    live.dataset.state = state;
  });
}

const logout = document.getElementById("logout-form");
if (logout) {
  logout.addEventListener("submit", async (event) => {
    // The session cookie needs the CSRF header, which a plain form cannot send.
    event.preventDefault();
    try {
      await api("POST", "/logout");
    } catch (err) {
      toast(`Sign out failed: ${err.detail || err}`, "error");
      return;
    }
    window.location.assign("/login");
  });
}

startPrompts();
events.start();
