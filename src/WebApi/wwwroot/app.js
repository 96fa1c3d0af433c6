"use strict";
// A classic script: top-level functions become window properties, so none may be named like one (open, close, ...).
// The web API's page: plain DOM and fetch, no framework, no build step. Every error shown is the API's own
// sentence (ProblemDetails.detail), so the page never invents a reason; every state shown is the API's,
// which follows what the operator reports.

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
    error.problem = data;
    throw error;
  }
  return data;
}

function showError(error) {
  const banner = $("#error");
  banner.textContent = error ? error.message : "";
  banner.hidden = !error;
}

// A user's action: what it says stays until the user acts again.
async function run(action) {
  showError(null);
  try {
    await action();
  } catch (error) {
    showError(error);
  }
}

// A refresh the page makes by itself: it never clears what an action said (a refresh 300 ms after a refused
// Start used to wipe the reason before it could be read); its own failure shows only if nothing else does.
async function poll(action) {
  try {
    await action();
  } catch (error) {
    if ($("#error").hidden) showError(error);
  }
}

function formJson(form) {
  const data = Object.fromEntries(new FormData(form).entries());
  for (const box of form.querySelectorAll("input[type=checkbox]")) data[box.name] = box.checked;
  return data;
}

function element(tag, className, text) {
  const node = document.createElement(tag);
  if (className) node.className = className;
  if (text !== undefined) node.textContent = text;
  return node;
}

// --- Words for times and states -------------------------------------------------------------------

function span(seconds) {
  const units = [["day", 86400], ["hour", 3600], ["minute", 60]];
  for (const [unit, size] of units) {
    const n = Math.floor(seconds / size);
    if (n >= 1) return `${n} ${unit}${n === 1 ? "" : "s"}`;
  }
  return null;
}

function ago(iso) {
  const words = span((Date.now() - Date.parse(iso)) / 1000);
  return words ? `${words} ago` : "just now";
}

function within(iso) {
  const words = span((Date.parse(iso) - Date.now()) / 1000);
  return words ? `in ${words}` : "in a moment";
}

const stopCauses = { owner: "stopped by you", idle: "idle", operator: "stopped by an administrator" };

function stoppedWords(w) {
  if (!w.stoppedAt) return "Stopped";
  const cause = stopCauses[w.stopCause];
  return `Stopped ${ago(w.stoppedAt)}${cause ? ` (${cause})` : ""}`;
}

// The operator's reasons (its drivers' steps) on the way to Ready; the local driver starts at the editor.
const steps = ["Scheduled", "Volume attached", "Editor starting", "Ready"];
const doing = ["Finding a node", "Attaching the volume", "Starting the editor", "Ready"];
const stepOfReason = {
  Requested: 0, Scheduling: 0, VolumeAttaching: 1,
  EditorCreating: 2, EditorStarting: 2, EditorRestarting: 2, EditorBackOff: 2, Probing: 2,
};

function stepOf(w) {
  if (w.state === "Running") return steps.length;
  const reason = w.progress && w.progress.reason;
  return reason in stepOfReason ? stepOfReason[reason] : 0;
}

const transitional = ["Starting", "Stopping", "Deleting"];

// --- Signed in or not ---------------------------------------------------------------------------

async function showSignedIn(user) {
  $("#who-name").textContent = user.userName;
  $("#who").hidden = false;
  $("#auth").hidden = true;
  const [templates, specs] = await Promise.all([api("GET", "/api/templates"), api("GET", "/api/specs")]);
  $("#templates").replaceChildren(...templates.map((t) => new Option(`${t.name} — ${t.description}`, t.key)));
  $("#specs").replaceChildren(...specs.map((s) => new Option(s.displayName, s.key)));
  const returnTo = new URLSearchParams(location.search).get("returnTo");
  if (returnTo !== null && await resumeReturnTo(returnTo)) return;
  showDashboard();
  await refresh();
}

function showSignedOut() {
  $("#who").hidden = true;
  $("#auth").hidden = false;
  $("#app").hidden = true;
  $("#start-page").hidden = true;
}

function showDashboard() {
  leaveStartPage();
  $("#app").hidden = false;
}

// The gateway sends a browser here with ?returnTo=<the address it asked for> (Gateway:Auth:LoginUrl): an
// editor tab reloaded after its session expired or after its workspace stopped, or a dev-server port shared
// with signed-in users. Once signed in, the API turns that address into one with a ticket (only addresses
// of this platform's workspaces that are the user's or shared with them), or says why not; the owner of a
// workspace that is not running gets its start page, which keeps returnTo in its address so that a reload
// shows it again (and starts nothing). True when the page went somewhere else.
async function resumeReturnTo(returnTo) {
  try {
    const { url } = await api("POST", "/api/tickets", { returnTo });
    location.assign(url);
    return true;
  } catch (error) {
    if (error.status === 409 && error.problem && error.problem.sid) {
      await showStartPage(error.problem.sid, returnTo);
      return true;
    }
    history.replaceState(null, "", location.pathname);
    showDashboard();
    await refresh();
    throw error;
  }
}

// --- The list ----------------------------------------------------------------------------------

let workspaces = [];
let pollTimer = null;

async function refresh() {
  render(await api("GET", "/api/workspaces"));
}

function render(list) {
  workspaces = list;
  $("#workspaces").replaceChildren(...list.map(card));
  $("#empty").hidden = list.length > 0;
  clearTimeout(pollTimer);

  // Quickly while something changes; otherwise now and then, since a workspace also changes when another
  // tab, the idle stop or an administrator acts ("last used" and the idle stop time move too).
  const delay = list.some((w) => transitional.includes(w.state)) ? 1000 : 10000;
  if (!$("#app").hidden) pollTimer = setTimeout(() => poll(refresh), delay);
}

document.addEventListener("visibilitychange", () => {
  if (document.visibilityState === "visible" && !$("#app").hidden && !$("#who").hidden) poll(refresh);
});

function card(w) {
  const item = element("li", `workspace state-${w.state}`);
  item.dataset.sid = w.sid;

  const main = element("div", "ws-main");
  const title = element("div", "ws-title");
  title.append(element("span", "ws-name", w.name), element("span", `state badge badge-${w.state}`, w.state));
  main.append(title);

  const meta = [w.templateName || w.template, w.specName || w.spec];
  if (w.state === "Stopped") meta.push(stoppedWords(w).replace(/^Stopped/, "stopped"));
  if (w.lastUsedAt) meta.push(`last used ${ago(w.lastUsedAt)}`);
  if (w.idleStopAt) meta.push(`stops when idle ${within(w.idleStopAt)}`);
  main.append(element("div", "ws-meta", meta.filter(Boolean).join(" · ")));

  if (w.state === "Starting" || w.state === "Stopping") {
    const progress = element("div", "ws-progress");
    const bar = element("progress");
    if (w.state === "Starting") {
      bar.max = steps.length;
      bar.value = stepOf(w) + 0.5;
    }
    const words = w.state === "Starting" ? doing[Math.min(stepOf(w), doing.length - 1)] : "Stopping";
    progress.append(bar, element("span", "muted small", w.progress && w.progress.message ? `${words}: ${w.progress.message}` : `${words}…`));
    main.append(progress);
  }

  if (w.lastError) main.append(element("div", "error-text", w.lastError));
  if (w.portsShareable && (w.state === "Running" || w.ports.length > 0)) main.append(portSharing(w));

  const actions = element("div", "actions");
  const button = (label, handler, style = "") => {
    const b = element("button", `button ${style}`, label);
    b.type = "button";
    b.addEventListener("click", () => run(handler));
    actions.append(b);
  };
  if (w.state === "Running") {
    button("Open", () => openEditor(w.sid), "primary");
    button("Stop", () => act(w, "Stopping", "POST", `/api/workspaces/${w.sid}/stop`));
  }
  if (w.state === "Failed") button("Stop", () => act(w, "Stopping", "POST", `/api/workspaces/${w.sid}/stop`));
  if (w.state === "Stopped") {
    button("Start", () => act(w, "Starting", "POST", `/api/workspaces/${w.sid}/start`), "primary");
    button("Delete", () => confirm(`Delete "${w.name}" and its files?`) ? act(w, "Deleting", "DELETE", `/api/workspaces/${w.sid}`) : null, "danger");
  }
  item.append(main, actions);
  return item;
}

// The workspace's shared dev-server ports (each on its own origin) and a small form to share one more.
function portSharing(w) {
  const box = element("div", "ports");
  const levels = ["private", "authenticated", "public"];
  const levelSelect = (current) => {
    const select = document.createElement("select");
    select.append(...levels.map((level) => new Option(level, level, false, level === current)));
    return select;
  };
  for (const p of w.ports) {
    const line = element("div", "port");
    const link = element("a", "", `port ${p.port}`);
    if (p.url) { link.href = p.url; link.target = "_blank"; link.rel = "noopener"; }
    const select = levelSelect(p.sharing);
    select.setAttribute("aria-label", `sharing of port ${p.port}`);
    select.addEventListener("change", () => run(() => share(w.sid, p.port, select.value)));
    line.append(link, " ", select);
    box.append(line);
  }
  const form = element("form", "share-form");
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
  const submit = element("button", "button small", "Share");
  submit.type = "submit";
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

// Shows the transition at once (no second of "Stopped" with Start still clickable); the call returns when
// it is done (a start may take a while) and the list polls meanwhile for the operator's progress.
async function act(w, shown, method, path) {
  render(workspaces.map((x) => x.sid === w.sid ? { ...x, state: shown, progress: null, lastError: null } : x));
  setTimeout(() => poll(refresh), 300);
  try {
    await api(method, path);
  } finally {
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

// --- The start page ------------------------------------------------------------------------------

let startPage = null;

async function showStartPage(sid, returnTo) {
  clearTimeout(pollTimer);
  $("#app").hidden = true;
  $("#start-page").hidden = false;
  startPage = { sid, returnTo, view: null, events: null, arriving: false };
  renderStartPage(await api("GET", `/api/workspaces/${encodeURIComponent(sid)}`));

  // Live progress: one event each time the workspace's view changes.
  const events = new EventSource(`/api/workspaces/${encodeURIComponent(sid)}/events`);
  events.addEventListener("workspace", (event) => run(() => startPageSaw(JSON.parse(event.data))));
  startPage.events = events;
}

function leaveStartPage() {
  if (startPage && startPage.events) startPage.events.close();
  if (startPage) history.replaceState(null, "", location.pathname);
  startPage = null;
  $("#start-page").hidden = true;
}

async function startPageSaw(w) {
  if (!startPage || w.sid !== startPage.sid) return;
  renderStartPage(w);
  if (w.state === "Running") await arrive();
}

// Back to the very address that was asked for, with a fresh ticket.
async function arrive() {
  if (startPage.arriving) return;
  startPage.arriving = true;
  try {
    const { url } = await api("POST", "/api/tickets", { returnTo: startPage.returnTo });
    startPage.events.close();
    location.replace(url);
  } catch (error) {
    startPage.arriving = false;
    throw error;
  }
}

function renderStartPage(w) {
  startPage.view = w;
  $("#start-name").textContent = w.name;
  const status = {
    Stopped: stoppedWords(w),
    Starting: "Starting…",
    Stopping: "Stopping…",
    Running: "Running: opening the editor…",
    Failed: "The editor is not running.",
    Deleting: "Being deleted.",
  }[w.state] || w.state;
  const badge = element("span", `state badge badge-${w.state}`, w.state);
  $("#start-status").replaceChildren(badge, " ", status);

  const showSteps = w.state === "Starting" || w.state === "Running";
  $("#start-steps").hidden = !showSteps;
  const current = stepOf(w);
  [...$("#start-steps").children].forEach((li, i) => {
    li.className = i < current ? "done" : i === current ? "current" : "";
  });
  $("#start-detail").textContent = showSteps && w.progress ? w.progress.message || "" : "";
  $("#start-error").textContent = w.lastError || "";
  $("#start-error").hidden = !w.lastError || w.state === "Starting";

  const startButton = $("#start-button");
  const startable = w.state === "Stopped" || w.state === "Failed";
  startButton.textContent = w.state === "Failed" ? "Start again" : "Start";
  startButton.hidden = !startable;
  startButton.disabled = false;
  $("#start-other").hidden = true;
  $("#start-other-button").hidden = true;
  if (w.state === "Stopped") run(offerToStopTheOther);
}

// One workspace runs at a time: if another one does, say which and offer to stop it first.
async function offerToStopTheOther() {
  const sid = startPage.sid;
  const other = (await api("GET", "/api/workspaces")).find((x) => x.sid !== sid && x.state !== "Stopped");
  if (!startPage || startPage.sid !== sid || startPage.view.state !== "Stopped" || !other) return;
  $("#start-other").textContent = `“${other.name}” is ${other.state.toLowerCase()}. One workspace runs at a time.`;
  $("#start-other").hidden = false;
  $("#start-button").hidden = true;
  const button = $("#start-other-button");
  button.textContent = `Stop “${other.name}” and start`;
  button.hidden = false;
  button.onclick = () => run(async () => {
    button.disabled = true;
    try {
      await api("POST", `/api/workspaces/${other.sid}/stop`);
    } finally {
      button.disabled = false;
    }
    await startFromPage();
  });
}

async function startFromPage() {
  const { sid, view } = startPage;
  $("#start-button").disabled = true;
  $("#start-other").hidden = true;
  $("#start-other-button").hidden = true;
  if (view.state === "Failed") await api("POST", `/api/workspaces/${sid}/stop`);
  renderStartPage({ ...view, state: "Starting", lastError: null, progress: { reason: "Requested", message: "asking for the workspace to start" } });
  try {
    await api("POST", `/api/workspaces/${sid}/start`);
  } catch (error) {
    renderStartPage(await api("GET", `/api/workspaces/${sid}`));
    throw error;
  }
  await arrive();
}

// --- Forms ----------------------------------------------------------------------------------------

$("#start-button").addEventListener("click", () => run(startFromPage));

$("#back").addEventListener("click", (event) => {
  event.preventDefault();
  run(async () => {
    showDashboard();
    await refresh();
  });
});

$("#login-form").addEventListener("submit", (event) => {
  event.preventDefault();
  run(async () => showSignedIn(await api("POST", "/api/accounts/login", formJson(event.target))));
});

$("#register-form").addEventListener("submit", (event) => {
  event.preventDefault();
  run(async () => showSignedIn(await api("POST", "/api/accounts/register", formJson(event.target))));
});

// Created first, listed at once, then started with its progress in the list.
$("#create-form").addEventListener("submit", (event) => {
  event.preventDefault();
  const form = event.target;
  run(async () => {
    const button = form.querySelector("button");
    const request = formJson(form);
    button.disabled = true;
    button.textContent = "Creating…";
    let created;
    try {
      created = await api("POST", "/api/workspaces", { ...request, start: false });
      form.elements.name.value = "";
    } finally {
      button.disabled = false;
      button.textContent = "Create";
    }
    await refresh();
    if (request.start) await act(created, "Starting", "POST", `/api/workspaces/${created.sid}/start`);
  });
});

$("#logout").addEventListener("click", () => run(async () => {
  await api("POST", "/api/accounts/logout");
  leaveStartPage();
  showSignedOut();
}));

run(async () => {
  try {
    await showSignedIn(await api("GET", "/api/accounts/me"));
  } catch (error) {
    if (error.status === 401) showSignedOut(); else throw error;
  }
});
