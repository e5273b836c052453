// Sign in with a token: the form posts it once; the server answers with an HttpOnly
// session cookie. `/login#token=...` (printed by `litgap serve`) fills and submits it.

const form = document.getElementById("login-form");
const input = document.getElementById("token");
const error = document.getElementById("login-error");

async function signIn(event) {
  event.preventDefault();
  error.textContent = "";
  const token = input.value.trim();
  if (!token) {
    error.textContent = "Paste your token first.";
    input.focus();
    return;
  }
  const button = form.querySelector("button[type=submit]");
  button.disabled = true;
  try {
    const response = await fetch("/login", {
      method: "POST",
      headers: { Accept: "application/json" },
      body: new URLSearchParams({ token }),
      credentials: "same-origin",
    });
    if (response.ok && response.redirected) {
      window.location.assign("/");
      return;
    }
    const data = await response.json().catch(() => null);
    const detail = data && typeof data.detail === "string" ? data.detail : `${response.status}`;
    error.textContent =
      response.status === 401 ? "That token is not valid. Check it and try again." : detail;
  } catch (err) {
    error.textContent = `The server cannot be reached (${err.message}).`;
  } finally {
    button.disabled = false;
  }
}

form.addEventListener("submit", signIn);

const match = window.location.hash.match(/^#token=(.+)$/);
if (match) {
  input.value = decodeURIComponent(match[1]);
  // Keep the token out of the address bar and the history.
  window.history.replaceState(null, "", window.location.pathname);
  form.requestSubmit();
}
