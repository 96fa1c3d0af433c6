// What every part of the page needs: the API's calls with its own error sentences, which sign-in an answer
// belongs to, how an action and a refresh show their failures, and two DOM shorthands.

export const $ = (selector) => document.querySelector(selector);

export async function api(method, path, body) {
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

export function showError(error) {
  const banner = $("#error");
  banner.textContent = error ? error.message : "";
  banner.hidden = !error;
}

// Bumped at every sign-in and sign-out. What an earlier one still had in flight is dropped when it lands: a
// user who logged out while the page was still loading their list once got the list back beside the log-in
// form, and a Create sent from it, before the next log-in had answered, went without a session (401).
let session = 0;

// A new sign-in or sign-out: what the ones before still have in flight will be dropped.
export function newSession() {
  return ++session;
}

// The sign-in or sign-out the page is in now.
export function currentSession() {
  return session;
}

export class Superseded extends Error {}

// The value of a request made for session `mine`, or Superseded when another sign-in or sign-out came since.
export async function ofSession(mine, request) {
  let value;
  try {
    value = await request;
  } catch (error) {
    if (mine !== session) throw new Superseded();
    throw error;
  }
  if (mine !== session) throw new Superseded();
  return value;
}

// A user's action: what it says stays until the user acts again.
export async function run(action) {
  showError(null);
  try {
    await action();
  } catch (error) {
    if (!(error instanceof Superseded)) showError(error);
  }
}

// A refresh the page makes by itself: it never clears what an action said (a refresh 300 ms after a refused
// Start used to wipe the reason before it could be read); its own failure shows only if nothing else does.
export async function poll(action) {
  try {
    await action();
  } catch (error) {
    if (!(error instanceof Superseded) && $("#error").hidden) showError(error);
  }
}

export function formJson(form) {
  const data = Object.fromEntries(new FormData(form).entries());
  for (const box of form.querySelectorAll("input[type=checkbox]")) data[box.name] = box.checked;
  return data;
}

export function element(tag, className, text) {
  const node = document.createElement(tag);
  if (className) node.className = className;
  if (text !== undefined) node.textContent = text;
  return node;
}
