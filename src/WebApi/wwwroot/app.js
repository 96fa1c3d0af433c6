"use strict";
// A classic script: top-level functions become window properties, so none may be named like one (open, close, ...).
// The web API's page: plain DOM and fetch, no framework. Every error shown is the API's own sentence
// (ProblemDetails.detail), so the page never invents a reason.

const $ = (selector) => document.querySelector(selector);

async function api(method, path, body) {
  const response = await fetch(path, {
    method,
    headers: body === undefined ? {} : { "Content-Type": "application/json" },
    body: body === undefined ? undefined : JSON.stringify(body),
    credentials: "same-origin",
  });
  if (response.status === 204) return null;
  const data = await response.json().catch(() => null);
  if (!response.ok) {
    const errors = data && data.errors ? Object.entries(data.errors).map(([k, v]) => `${k}: ${v.join(", ")}`).join("; ") : "";
    const error = new Error((data && (data.detail || errors || data.title)) || `${response.status} ${response.statusText}`);
    error.status = response.status;
    throw error;
  }
  return data;
}

function showError(error) {
  const banner = $("#error");
  banner.textContent = error ? error.message : "";
  banner.hidden = !error;
}

async function run(action) {
  showError(null);
  try {
    await action();
  } catch (error) {
    showError(error);
  }
}

function formJson(form) {
  const data = Object.fromEntries(new FormData(form).entries());
  for (const box of form.querySelectorAll("input[type=checkbox]")) data[box.name] = box.checked;
  return data;
}

// The gateway sends a browser that has no valid session for a workspace here, with ?returnTo=<the address
// it asked for> (Gateway:Auth:LoginUrl): an editor tab reloaded after its session expired, or a dev-server
// port shared with signed-in users. Once signed in, the API turns that address into one with a ticket
// (only addresses of this platform's workspaces that are the user's or shared with them), or says why not.
async function resumeReturnTo() {
  const returnTo = new URLSearchParams(location.search).get("returnTo");
  if (returnTo === null) return;
  history.replaceState(null, "", location.pathname);
  const { url } = await api("POST", "/api/tickets", { returnTo });
  location.assign(url);
}

async function showSignedIn(user) {
  $("#who-name").textContent = user.userName;
  $("#who").hidden = false;
  $("#auth").hidden = true;
  $("#app").hidden = false;
  const [templates, specs] = await Promise.all([api("GET", "/api/templates"), api("GET", "/api/specs")]);
  $("#templates").replaceChildren(...templates.map((t) => new Option(`${t.name} — ${t.description}`, t.key)));
  $("#specs").replaceChildren(...specs.map((s) => new Option(s.displayName, s.key)));
  await refresh();
  await resumeReturnTo();
}

function showSignedOut() {
  $("#who").hidden = true;
  $("#auth").hidden = false;
  $("#app").hidden = true;
}

let pollTimer = null;

async function refresh() {
  const workspaces = await api("GET", "/api/workspaces");
  const rows = workspaces.map((w) => {
    const row = document.createElement("tr");
    row.dataset.sid = w.sid;
    const name = document.createElement("td");
    name.textContent = w.name;
    if (w.lastError) {
      const error = document.createElement("div");
      error.className = "error-text";
      error.textContent = w.lastError;
      name.append(error);
    }
    const state = document.createElement("td");
    state.textContent = w.state;
    state.className = `state state-${w.state}`;
    const template = document.createElement("td");
    template.textContent = w.template;
    const spec = document.createElement("td");
    spec.textContent = w.spec;
    const actions = document.createElement("td");
    actions.className = "actions";
    const button = (label, handler) => {
      const b = document.createElement("button");
      b.type = "button";
      b.textContent = label;
      b.addEventListener("click", () => run(handler));
      actions.append(b);
    };
    if (w.state === "Running") {
      button("Open", () => openEditor(w.sid));
      button("Stop", () => act("POST", `/api/workspaces/${w.sid}/stop`));
    }
    if (w.state === "Stopped") {
      button("Start", () => act("POST", `/api/workspaces/${w.sid}/start`));
      button("Delete", () => confirm(`Delete "${w.name}" and its files?`) ? act("DELETE", `/api/workspaces/${w.sid}`) : null);
    }
    row.append(name, state, template, spec, actions);
    if (w.portsShareable && (w.state === "Running" || w.ports.length > 0)) name.append(portSharing(w));
    return row;
  });
  $("#workspaces tbody").replaceChildren(...rows);
  $("#empty").hidden = workspaces.length > 0;
  clearTimeout(pollTimer);
  if (workspaces.some((w) => ["Starting", "Stopping", "Deleting"].includes(w.state))) {
    pollTimer = setTimeout(() => run(refresh), 2000);
  }
}

// The workspace's shared dev-server ports (each on its own origin) and a small form to share one more.
function portSharing(w) {
  const box = document.createElement("div");
  box.className = "ports";
  const levels = ["private", "authenticated", "public"];
  const levelSelect = (current) => {
    const select = document.createElement("select");
    select.append(...levels.map((level) => new Option(level, level, false, level === current)));
    return select;
  };
  for (const p of w.ports) {
    const line = document.createElement("div");
    line.className = "port";
    const link = document.createElement("a");
    link.textContent = `port ${p.port}`;
    if (p.url) { link.href = p.url; link.target = "_blank"; link.rel = "noopener"; }
    const select = levelSelect(p.sharing);
    select.setAttribute("aria-label", `sharing of port ${p.port}`);
    select.addEventListener("change", () => run(() => share(w.sid, p.port, select.value)));
    line.append(link, " ", select);
    box.append(line);
  }
  const form = document.createElement("form");
  form.className = "share-form";
  const port = document.createElement("input");
  port.name = "port";
  port.type = "number";
  port.min = "1";
  port.max = "65535";
  port.required = true;
  port.placeholder = "port";
  port.setAttribute("aria-label", "port to share");
  const select = levelSelect("public");
  select.name = "sharing";
  select.setAttribute("aria-label", "sharing level");
  const submit = document.createElement("button");
  submit.type = "submit";
  submit.textContent = "Share";
  form.append(port, " ", select, " ", submit);
  form.addEventListener("submit", (event) => {
    event.preventDefault();
    run(() => share(w.sid, port.value, select.value));
  });
  box.append(form);
  return box;
}

async function share(sid, port, sharing) {
  await api("PUT", `/api/workspaces/${sid}/ports/${encodeURIComponent(port)}`, { sharing });
  await refresh();
}

async function act(method, path) {
  // Show the transition at once; the call returns when it is done (a start may take a while).
  const pending = refresh();
  try {
    await api(method, path);
  } finally {
    await pending;
    await refresh();
  }
}

async function openEditor(sid) {
  // Opened before the await so the browser does not treat it as an unrequested pop-up.
  const tab = window.open("about:blank", "_blank");
  try {
    const { url } = await api("POST", `/api/workspaces/${sid}/open`);
    if (tab) tab.location = url; else window.location = url;
  } catch (error) {
    if (tab) tab.close();
    throw error;
  }
}

$("#login-form").addEventListener("submit", (event) => {
  event.preventDefault();
  run(async () => showSignedIn(await api("POST", "/api/accounts/login", formJson(event.target))));
});

$("#register-form").addEventListener("submit", (event) => {
  event.preventDefault();
  run(async () => showSignedIn(await api("POST", "/api/accounts/register", formJson(event.target))));
});

$("#create-form").addEventListener("submit", (event) => {
  event.preventDefault();
  const form = event.target;
  run(async () => {
    const button = form.querySelector("button");
    button.disabled = true;
    button.textContent = formJson(form).start ? "Creating and starting…" : "Creating…";
    try {
      await api("POST", "/api/workspaces", formJson(form));
      form.elements.name.value = "";
    } finally {
      button.disabled = false;
      button.textContent = "Create";
      await refresh();
    }
  });
});

$("#logout").addEventListener("click", () => run(async () => {
  await api("POST", "/api/accounts/logout");
  showSignedOut();
}));

run(async () => {
  try {
    await showSignedIn(await api("GET", "/api/accounts/me"));
  } catch (error) {
    if (error.status === 401) showSignedOut(); else throw error;
  }
});
