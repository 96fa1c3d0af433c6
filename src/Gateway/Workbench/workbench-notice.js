// Served by the gateway into the editor's page (the workbench), ahead of VS Code's own scripts. When the
// platform itself ends the editor's connection it says why in the close frame; VS Code only logs that reason
// and keeps retrying for half a minute before it shows a generic "reconnecting". This shows the reason at
// once, with the one action that helps: reloading the editor's address, which the gateway answers for a
// stopped workspace with the platform's start page.
// On the first open of a workspace in a browser it also says where the user is: the workspace's name (from the
// gateway, which has it from the owner's ticket), that the folder's files are kept, and where a dev server
// started in the terminal answers.
(() => {
  "use strict";
  const script = document.currentScript;
  const notices = {
    "The workspace was stopped": {
      title: "This workspace was stopped",
      text: "Its files are kept. Start it again from its start page.",
      action: "Open the start page",
    },
    "The workspace's editor went away": {
      title: "The editor stopped unexpectedly",
      text: "The platform starts it again by itself. Your files are kept.",
      action: "Reload",
    },
  };

  let shown = false;
  function show(notice) {
    if (shown) {
      return;
    }
    shown = true;
    document.getElementById("cloud-ide-welcome")?.remove();
    // Element by element, no markup: the workbench's page may forbid HTML from strings (Trusted Types).
    const overlay = document.createElement("div");
    overlay.setAttribute("role", "alertdialog");
    overlay.setAttribute("aria-modal", "true");
    overlay.setAttribute("aria-labelledby", "cloud-ide-notice-title");
    overlay.id = "cloud-ide-notice";
    Object.assign(overlay.style, {
      position: "fixed", inset: "0", zIndex: "2147483647", display: "flex", alignItems: "center",
      justifyContent: "center", background: "rgba(0, 0, 0, 0.55)", font: "14px system-ui, sans-serif",
    });
    const card = document.createElement("div");
    Object.assign(card.style, {
      background: "#fff", color: "#1f2328", borderRadius: "8px", padding: "24px 28px", maxWidth: "420px",
      margin: "16px", boxShadow: "0 8px 30px rgba(0, 0, 0, 0.3)",
    });
    const title = document.createElement("h2");
    title.id = "cloud-ide-notice-title";
    title.textContent = notice.title;
    Object.assign(title.style, { margin: "0 0 8px", fontSize: "18px" });
    const text = document.createElement("p");
    text.textContent = notice.text;
    Object.assign(text.style, { margin: "0 0 20px", lineHeight: "1.4" });
    const button = document.createElement("button");
    button.type = "button";
    button.textContent = notice.action;
    Object.assign(button.style, {
      background: "#0969da", color: "#fff", border: "0", borderRadius: "6px", padding: "8px 16px",
      font: "inherit", cursor: "pointer",
    });
    button.addEventListener("click", () => location.reload());
    card.append(title, text, button);
    overlay.append(card);
    (document.body ?? document.documentElement).append(overlay);
    button.focus();
  }

  function card(id, labelledBy) {
    const element = document.createElement("div");
    element.id = id;
    element.setAttribute("role", "dialog");
    element.setAttribute("aria-labelledby", labelledBy);
    Object.assign(element.style, {
      position: "fixed", right: "16px", bottom: "40px", zIndex: "2147483646", background: "#fff", color: "#1f2328",
      borderRadius: "8px", padding: "18px 22px", maxWidth: "min(420px, calc(100vw - 64px))",
      boxShadow: "0 8px 30px rgba(0, 0, 0, 0.3)", font: "14px system-ui, sans-serif", lineHeight: "1.4",
    });
    return element;
  }

  function paragraph(...parts) {
    const text = document.createElement("p");
    Object.assign(text.style, { margin: "0 0 10px" });
    for (const part of parts) {
      if (typeof part === "string") {
        text.append(part);
      } else {
        const code = document.createElement("code");
        code.textContent = part.code;
        Object.assign(code.style, { font: "12px ui-monospace, monospace", background: "#f0f2f4", padding: "1px 4px", borderRadius: "4px", overflowWrap: "anywhere" });
        text.append(code);
      }
    }
    return text;
  }

  // The editor's root: where this script is served from, less its own path (/ws/<sid>/ or / on its own origin).
  const editorRoot = new URL("..", script.src);
  const welcomed = "cloud-ide-welcomed:" + editorRoot.pathname;
  function welcome() {
    try {
      if (shown || localStorage.getItem(welcomed)) {
        return;
      }
    } catch {
      return;
    }
    const name = script.dataset.workspaceName;
    const folder = new URLSearchParams(location.search).get("folder");
    // On its own origin (<sid>.<domain>) a port has an origin of its own, which its owner may share; by path,
    // code-server's /proxy/<port>/, which is the editor's and so its owner's alone.
    const ownOrigin = editorRoot.pathname === "/";
    const devServer = ownOrigin ? `${location.protocol}//3000--${location.host}/` : `${editorRoot.href}proxy/3000/`;
    const element = card("cloud-ide-welcome", "cloud-ide-welcome-title");
    const title = document.createElement("h2");
    title.id = "cloud-ide-welcome-title";
    title.textContent = name ? `Welcome to “${name}”` : "Welcome to your workspace";
    Object.assign(title.style, { margin: "0 0 8px", fontSize: "16px" });
    const button = document.createElement("button");
    button.type = "button";
    button.textContent = "Got it";
    Object.assign(button.style, {
      background: "#0969da", color: "#fff", border: "0", borderRadius: "6px", padding: "6px 14px",
      font: "inherit", cursor: "pointer",
    });
    button.addEventListener("click", () => {
      localStorage.setItem(welcomed, "1");
      element.remove();
    });
    element.append(
      title,
      paragraph("Files in ", { code: folder || "this folder" }, " are kept when the workspace stops, and come back when it starts."),
      paragraph("A dev server you start in the terminal, say on port 3000, opens at ", { code: devServer },
        ownOrigin ? ": only you can open it until you share it from the workspaces page." : ": only you can open it."),
      button);
    (document.body ?? document.documentElement).append(element);
  }

  if (document.readyState === "loading") {
    document.addEventListener("DOMContentLoaded", welcome, { once: true });
  } else {
    welcome();
  }

  const NativeWebSocket = window.WebSocket;
  class PlatformAwareWebSocket extends NativeWebSocket {
    constructor(...args) {
      super(...args);
      this.addEventListener("close", (event) => {
        const notice = notices[event.reason];
        if (notice) {
          show(notice);
        }
      });
    }
  }
  window.WebSocket = PlatformAwareWebSocket;
})();
