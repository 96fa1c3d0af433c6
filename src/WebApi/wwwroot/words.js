// Words for times and states, as the page shows them. The states are the API's (WorkspaceView.state), which
// follow what the operator reports; nothing here decides one.

export function span(seconds) {
  const units = [["day", 86400], ["hour", 3600], ["minute", 60]];
  for (const [unit, size] of units) {
    const n = Math.floor(seconds / size);
    if (n >= 1) return `${n} ${unit}${n === 1 ? "" : "s"}`;
  }
  return null;
}

export function ago(iso) {
  const words = span((Date.now() - Date.parse(iso)) / 1000);
  return words ? `${words} ago` : "just now";
}

export function within(iso) {
  const words = span((Date.parse(iso) - Date.now()) / 1000);
  return words ? `in ${words}` : "in a moment";
}

const stopCauses = { owner: "stopped by you", idle: "idle", operator: "stopped by an administrator" };

// A workspace that was never started has no stop time: it is new, not "stopped".
export function neverStarted(w) {
  return w.state === "Stopped" && !w.stoppedAt;
}

export function stateWords(w) {
  return neverStarted(w) ? "Not started yet" : w.state;
}

export function stoppedWords(w) {
  if (!w.stoppedAt) return "Not started yet";
  const cause = stopCauses[w.stopCause];
  return `Stopped ${ago(w.stoppedAt)}${cause ? ` (${cause})` : ""}`;
}

// A start's steps; which one a workspace is in is the API's (progress.step, from the operator's reason).
export const steps = ["Scheduled", "Volume attached", "Editor starting", "Ready"];
export const doing = ["Finding a node", "Attaching the volume", "Starting the editor", "Ready"];

export function stepOf(w) {
  if (w.state === "Running") return steps.length;
  return w.progress ? w.progress.step : 0;
}

export const transitional = ["Starting", "Stopping", "Deleting"];

// The states that hold a user's one running workspace (the web API's Workspace.Active).
export const active = ["Starting", "Running", "Stopping"];
