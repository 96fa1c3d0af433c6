// Served by the gateway into the editor's page (the workbench), ahead of VS Code's own scripts. When the
// platform itself ends the editor's connection it says why in the close frame; VS Code only logs that reason
// and keeps retrying for half a minute before it shows a generic "reconnecting". This shows the reason at
// once, with the one action that helps: reloading the editor's address, which the gateway answers for a
// stopped workspace with the platform's start page.
(() => {
  "use strict";
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
