// The dashboard's only script (app/dashboard; no inline script: the pages' CSP is script-src
// 'self'). It keeps the bearer token pasted on the sign-in page in this tab's sessionStorage
// (never in a URL or cookie), fetches each page's panel of figures with it, and downloads the
// report API's CSV of a section. Plain ES2020, no build step.
"use strict";

const KEY = "assetlink.token";

function token() {
  try {
    return sessionStorage.getItem(KEY);
  } catch {
    return null; // storage disabled: not signed in
  }
}

function authorised(headers = {}) {
  const t = token();
  return t ? { ...headers, Authorization: `Bearer ${t}` } : headers;
}

function forget() {
  try {
    sessionStorage.removeItem(KEY);
  } catch {
    // storage disabled: nothing kept
  }
}

// Said once to screen readers (the panel itself is not a live region: it is long).
function announce(text) {
  const said = document.getElementById("panel-status");
  if (said) said.textContent = text;
}

function status(text, link) {
  announce(text);
  const p = document.createElement("p");
  p.className = "status";
  p.textContent = text;
  if (link) {
    p.append(" ");
    const a = document.createElement("a");
    a.href = "/dashboard/sign-in";
    a.textContent = "Sign in";
    p.append(a);
  }
  return p;
}

async function loadPanel(panel) {
  const url = panel.dataset.panel;
  if (!url) return; // the figures came with the page, or a message did
  if (!token()) {
    panel.replaceChildren(status("Sign in to see the figures.", true));
    return;
  }
  let response;
  let body;
  try {
    response = await fetch(url, { headers: authorised(), credentials: "omit" });
    body = await response.text(); // whatever the answer: an unread body keeps the request open
  } catch {
    panel.replaceChildren(status("The figures could not be loaded: the service did not answer."));
    return;
  }
  if (response.status === 401) {
    forget(); // expired or not valid: ask for a new one
    showAccount();
    panel.replaceChildren(status("Your sign-in was not accepted or has expired.", true));
  } else if (response.status === 403) {
    panel.replaceChildren(
      status("This dashboard is for commissioners: your role cannot read the reports."),
    );
  } else if (response.ok || response.status === 400) {
    // HTML written and escaped by the service (app/dashboard/render.py)
    panel.innerHTML = body;
    wireDownloads(panel);
    announce(response.ok ? "The figures are shown." : "The filters could not be used.");
  } else {
    panel.replaceChildren(
      status(`The figures could not be loaded (the service answered ${response.status}).`),
    );
  }
}

async function download(button) {
  const note = button.parentElement.querySelector(".download-status") || document.createElement("span");
  note.className = "download-status";
  note.setAttribute("role", "status");
  button.after(note);
  note.textContent = " Downloading…";
  try {
    const response = await fetch(button.dataset.csv, {
      headers: authorised({ Accept: "text/csv" }),
      credentials: "same-origin",
    });
    if (!response.ok) {
      await response.text(); // read, so the request ends
      note.textContent = ` The download failed (the service answered ${response.status}).`;
      return;
    }
    const url = URL.createObjectURL(await response.blob());
    const a = document.createElement("a");
    a.href = url;
    a.download = button.dataset.filename || "report.csv";
    document.body.append(a);
    a.click();
    a.remove();
    setTimeout(() => URL.revokeObjectURL(url), 1000);
    note.textContent = " Downloaded.";
  } catch {
    note.textContent = " The download failed: the service did not answer.";
  }
}

function wireDownloads(root) {
  for (const button of root.querySelectorAll("button.csv[data-csv]")) {
    button.addEventListener("click", () => download(button));
  }
}

function showAccount() {
  // signed in here, or by a proxy in front (the figures came with the page)
  const panel = document.getElementById("panel");
  const inline = Boolean(panel && !panel.dataset.panel && panel.querySelector("section"));
  const signedIn = Boolean(token()) || inline;
  const link = document.getElementById("sign-in-link");
  const out = document.getElementById("sign-out");
  if (link) link.hidden = signedIn;
  if (out) out.hidden = !token();
}

function signOut() {
  forget();
  location.assign("/dashboard/sign-in");
}

async function signIn(event) {
  event.preventDefault();
  const input = document.getElementById("token");
  const said = document.getElementById("sign-in-status");
  const value = input.value.trim().replace(/^Bearer\s+/i, "");
  if (!value) {
    said.textContent = "Paste a token first.";
    input.focus();
    return;
  }
  said.textContent = "Checking the token…";
  let response;
  try {
    response = await fetch("/api/v1/whoami", {
      headers: { Authorization: `Bearer ${value}` },
      credentials: "omit",
    });
    await response.text(); // read, so the request ends before the page moves on
  } catch {
    said.textContent = "The service did not answer; try again.";
    return;
  }
  if (!response.ok) {
    said.textContent = "That token was not accepted: it may have expired or be mistyped.";
    input.focus();
    return;
  }
  try {
    sessionStorage.setItem(KEY, value);
  } catch {
    said.textContent = "This browser does not let the page keep the token (session storage is off).";
    return;
  }
  input.value = "";
  location.assign("/dashboard/overview");
}

document.addEventListener("DOMContentLoaded", () => {
  showAccount();
  document.getElementById("sign-out")?.addEventListener("click", signOut);
  document.getElementById("sign-in-form")?.addEventListener("submit", signIn);
  const panel = document.getElementById("panel");
  if (panel) {
    wireDownloads(panel);
    loadPanel(panel);
  }
});
