// The web API's page: plain DOM and fetch, no framework, no build step. Every error shown is the API's own
// sentence (ProblemDetails.detail), so the page never invents a reason; every state shown is the API's,
// which follows what the operator reports. An ES module: nothing it declares is a global.

import { $, api, showError, newSession, currentSession, ofSession, run, poll, formJson, element } from "./api.js";
import { ago, within, neverStarted, stateWords, stoppedWords, steps, doing, stepOf, transitional, active } from "./words.js";

function otherActive(w) {
  return workspaces.find((x) => x.sid !== w.sid && active.includes(x.state));
}

// --- Signed in or not ---------------------------------------------------------------------------

async function showSignedIn(user) {
  const mine = newSession();
  $("#who-name").textContent = user.userName;
  $("#who").hidden = false;
  $("#auth").hidden = true;
  $("#reset").hidden = true;
  showVerification(user);
  const [templates, specs] = await ofSession(mine, Promise.all([api("GET", "/api/templates"), api("GET", "/api/specs")]));
  // On one machine every workspace is the editor installed there, with that machine's tools: say so rather
  // than promise an image's versions or a size nobody enforces.
  const oneMachine = templates.some((t) => !t.applies) || specs.some((s) => !s.applies);
  $("#templates").replaceChildren(...templates.map((t) => new Option(t.applies ? `${t.name} — ${t.description}` : `${t.name} (this machine's tools)`, t.key)));
  $("#specs").replaceChildren(...specs.map((s) => new Option(s.applies ? s.displayName : `${s.displayName} (not enforced here)`, s.key)));
  $("#one-machine").hidden = !oneMachine;
  const returnTo = new URLSearchParams(location.search).get("returnTo");
  if (returnTo !== null && await resumeReturnTo(returnTo)) return;
  showDashboard();
  await refresh();
}

// Until its address is verified an account sees why it cannot create a workspace, and where to enter the code.
function showVerification(user) {
  const pending = user.verificationRequired && !user.emailVerified;
  $("#verify-email").textContent = user.email;
  $("#verify-form").hidden = !pending;
  $("#create-form").hidden = pending;
  $("#empty-how").textContent = pending
    ? "Once your address is verified (above), create one: give it a name, pick a template and a size."
    : "Create one above: give it a name, pick a template and a size. It starts with an empty folder that is kept while it is stopped.";
}

function showSignedOut() {
  newSession();
  clearTimeout(pollTimer);
  $("#who-name").textContent = "";
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
  render(await ofSession(currentSession(), api("GET", "/api/workspaces")));
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
  title.append(element("span", "ws-name", w.name), element("span", `state badge badge-${w.state}`, stateWords(w)));
  main.append(title);

  const meta = [w.templateName || w.template, w.specName || w.spec];
  if (w.state === "Stopped" && !neverStarted(w)) meta.push(stoppedWords(w).replace(/^Stopped/, "stopped"));
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
    // One workspace runs at a time: a Start that would only be refused offers what the start page does.
    const other = otherActive(w);
    if (other) {
      button(`Stop “${other.name}” and start`, () => stopOtherAndStart(other, w), "primary");
    } else {
      button("Start", () => act(w, "Starting", "POST", `/api/workspaces/${w.sid}/start`), "primary");
    }
    button("Delete", () => confirm(`Delete "${w.name}" and its files?`) ? act(w, "Deleting", "DELETE", `/api/workspaces/${w.sid}`) : null, "danger");
  }
  item.append(main, actions);
  return item;
}

// A running workspace's dev-server ports, each on its own origin: the ones listening now (the platform looks)
// and the ones shared, each with who may open it, its full address and a copy button. Private unless the
// owner says otherwise; public only after a confirmation naming what it means.
const levelWords = {
  private: "Private (only you)",
  authenticated: "Signed-in users",
  public: "Public (anyone with the address)",
};
const portsSeen = new Map(); // sid -> the last PortsView, so a refresh of the list does not flicker
// sid -> when its ports were last asked for. The card is drawn again at each refresh of the list (every second
// while any workspace changes state), and each ask makes the operator look at the workspace's sockets: at most
// every few seconds, at once after the owner changed a share.
const portsAskedAt = new Map();
const portsPace = 5000;
const portsAdded = new Map(); // sid -> ports typed in this page that are neither listening nor shared

function portSharing(w) {
  const box = element("section", "ports");
  box.setAttribute("aria-label", `Dev server ports of ${w.name}`);
  const list = element("div", "port-list");
  box.append(element("h3", "ports-title", "Dev server ports"), list, addPortForm(w));
  if (portsSeen.has(w.sid)) renderPorts(w, list, portsSeen.get(w.sid));
  if (Date.now() - (portsAskedAt.get(w.sid) || 0) >= portsPace) {
    portsAskedAt.set(w.sid, Date.now());
    poll(async () => {
      const view = await api("GET", `/api/workspaces/${w.sid}/ports`);
      portsSeen.set(w.sid, view);
      // The card on screen now, which may have been drawn again while this was asked.
      const shown = document.querySelector(`#workspaces .workspace[data-sid="${w.sid}"] .port-list`);
      if (shown) renderPorts(w, shown, view);
    });
  }
  return box;
}

function renderPorts(w, list, view) {
  const known = new Set(view.ports.map((p) => p.port));
  const added = [...(portsAdded.get(w.sid) || [])].filter((port) => !known.has(port))
    .map((port) => ({ port, sharing: "private", url: null, listening: false }));
  const ports = [...view.ports, ...added].sort((a, b) => a.port - b.port);
  const rows = ports.map((p) => portRow(w, p));
  if (rows.length === 0) {
    rows.push(element("p", "muted small", view.detected
      ? "Nothing listens yet. Start a dev server in the editor's terminal (e.g. on port 3000): it shows here, private to you until you share it."
      : "Type the port your dev server listens on below; it stays private to you until you share it."));
  }
  list.replaceChildren(...rows);
}

function portRow(w, p) {
  const row = element("div", "port");
  row.dataset.port = p.port;
  const name = element("span", "port-number", `Port ${p.port}`);
  const state = element("span", "muted small", p.listening ? "listening" : "not listening");
  const select = document.createElement("select");
  select.setAttribute("aria-label", `Who may open port ${p.port}`);
  for (const [level, words] of Object.entries(levelWords)) select.append(new Option(words, level, false, level === p.sharing));
  select.addEventListener("change", () => {
    if (select.value === "public" && !confirmPublic(w, p.port)) {
      select.value = p.sharing;
      return;
    }
    run(() => share(w.sid, p.port, select.value));
  });
  row.append(name, state, select);
  const url = p.url;
  if (url) {
    const address = element("input", "port-url");
    address.readOnly = true;
    address.value = url;
    address.setAttribute("aria-label", `Address of port ${p.port}`);
    const copy = element("button", "button small", "Copy");
    copy.type = "button";
    copy.setAttribute("aria-label", `Copy the address of port ${p.port}`);
    copy.addEventListener("click", () => run(async () => {
      await copyText(address);
      copy.textContent = "Copied";
      setTimeout(() => { copy.textContent = "Copy"; }, 2000);
    }));
    const open = element("a", "button small quiet", "Open");
    open.href = url;
    open.target = "_blank";
    open.rel = "noopener";
    row.append(address, copy, open);
  }
  return row;
}

function confirmPublic(w, port) {
  return confirm(`Make port ${port} of “${w.name}” public?\n\nAnyone who has its address can open it, without signing in, until you make it private again.`);
}

async function copyText(input) {
  try {
    await navigator.clipboard.writeText(input.value);
  } catch {
    // No clipboard permission (an insecure origin): the browser's own copy of a selection.
    input.select();
    document.execCommand("copy");
  }
}

function addPortForm(w) {
  const form = element("form", "share-form");
  const label = element("label", "small", "Another port ");
  const port = document.createElement("input");
  port.name = "port";
  port.type = "number";
  port.min = "1";
  port.max = "65535";
  port.required = true;
  port.placeholder = "3000";
  label.append(port);
  const submit = element("button", "button small", "Add");
  submit.type = "submit";
  form.append(label, " ", submit);
  form.addEventListener("submit", (event) => {
    event.preventDefault();
    const number = Number(port.value);
    if (!portsAdded.has(w.sid)) portsAdded.set(w.sid, new Set());
    portsAdded.get(w.sid).add(number);
    port.value = "";
    const list = form.parentElement.querySelector(".port-list");
    if (portsSeen.has(w.sid)) renderPorts(w, list, portsSeen.get(w.sid));
    else renderPorts(w, list, { detected: false, ports: [] });
  });
  return form;
}

async function share(sid, port, sharing) {
  await api("PUT", `/api/workspaces/${sid}/ports/${encodeURIComponent(port)}`, { sharing });
  portsAskedAt.delete(sid);
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

async function stopOtherAndStart(other, w) {
  render(workspaces.map((x) => x.sid === other.sid ? { ...x, state: "Stopping", progress: null } : x));
  await api("POST", `/api/workspaces/${other.sid}/stop`);
  await act(w, "Starting", "POST", `/api/workspaces/${w.sid}/start`);
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
    Stopped: neverStarted(w) ? "Start it to open the editor; it begins with an empty folder." : stoppedWords(w),
    Starting: "Starting…",
    Stopping: "Stopping…",
    Running: "Running: opening the editor…",
    Failed: "The editor is not running.",
    Deleting: "Being deleted.",
  }[w.state] || w.state;
  const badge = element("span", `state badge badge-${w.state}`, stateWords(w));
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
  const other = (await api("GET", "/api/workspaces")).find((x) => x.sid !== sid && active.includes(x.state));
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

$("#verify-form").addEventListener("submit", (event) => {
  event.preventDefault();
  run(async () => {
    showVerification(await api("POST", "/api/accounts/verification", formJson(event.target)));
    event.target.reset();
    $("#verify-sent").hidden = true;
  });
});

$("#verify-resend").addEventListener("click", () => run(async () => {
  const { sentTo } = await api("POST", "/api/accounts/verification/resend");
  $("#verify-sent").textContent = `A new code is on its way to ${sentTo}; the one before no longer works.`;
  $("#verify-sent").hidden = false;
}));

$("#forgot-open").addEventListener("click", () => {
  $("#forgot-form").hidden = false;
  $("#forgot-form").elements.email.focus();
});

$("#forgot-form").addEventListener("submit", (event) => {
  event.preventDefault();
  run(async () => {
    const { detail } = await api("POST", "/api/accounts/password/forgot", formJson(event.target));
    $("#forgot-sent").textContent = detail;
    $("#forgot-sent").hidden = false;
  });
});

// The link of a reset mail: the token is in the fragment, read here and taken out of the address at once. A
// link opened in a tab that shows the page already changes only the fragment: no load, but a hashchange.
let resetToken = null;

function takeResetToken() {
  if (!location.hash.startsWith("#reset=")) return false;
  resetToken = decodeURIComponent(location.hash.slice("#reset=".length));
  history.replaceState(null, "", location.pathname + location.search);
  newSession();
  leaveStartPage();
  $("#app").hidden = true;
  $("#auth").hidden = true;
  $("#reset").hidden = false;
  return true;
}

window.addEventListener("hashchange", takeResetToken);

$("#reset-form").addEventListener("submit", (event) => {
  event.preventDefault();
  run(async () => {
    const user = await api("POST", "/api/accounts/password/reset", { token: resetToken, password: event.target.elements.password.value });
    await showSignedIn(user);
  });
});

$("#logout").addEventListener("click", () => run(async () => {
  newSession();
  await api("POST", "/api/accounts/logout");
  leaveStartPage();
  showSignedOut();
}));

// How people sign in here: the organisation's provider, passwords, or both. A single sign-on that came back
// refused says why (the API's sentence for the code in ?sso_error=), and the code leaves the address.
async function showSignInOptions() {
  const query = new URLSearchParams(location.search);
  const error = query.get("sso_error");
  const options = await api("GET", `/api/accounts/sign-in${error ? `?error=${encodeURIComponent(error)}` : ""}`);
  if (error !== null) {
    query.delete("sso_error");
    history.replaceState(null, "", location.pathname + (query.size ? `?${query}` : ""));
  }
  $("#sso").hidden = options.sso === null;
  if (options.sso !== null) {
    $("#sso-button").textContent = `Sign in with ${options.sso}`;
    const returnTo = query.get("returnTo");
    $("#sso-button").href = "/api/accounts/sso" + (returnTo !== null ? `?returnTo=${encodeURIComponent(returnTo)}` : "");
  }
  for (const form of ["#login-form", "#register-form"]) $(form).hidden = !options.local;
  if (options.error) showError({ message: options.error });
}

// The start page's steps, as the API counts them (progress.step): written once, in words.js.
$("#start-steps").replaceChildren(...steps.map((step) => element("li", null, step)));

run(async () => {
  if (takeResetToken()) return;
  await showSignInOptions();
  try {
    await showSignedIn(await api("GET", "/api/accounts/me"));
  } catch (error) {
    if (error.status === 401) showSignedOut(); else throw error;
  }
});
