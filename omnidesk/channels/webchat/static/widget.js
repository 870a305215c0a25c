/*
 * omnidesk web chat widget.
 *
 * Embed with one tag:
 *   <script src="https://support.example.com/webchat/widget.js" defer></script>
 * Optional attributes: data-open="true" (start opened), and the business's look, which
 * wins over the server's settings: data-title, data-color="#rrggbb",
 * data-position="left|right", data-greeting, data-avatar (a path on the server or a
 * data:image URL), data-offline-text.
 *
 * The script finds the omnidesk server from its own src, injects its stylesheet,
 * and speaks the web chat WebSocket protocol (/webchat/ws). Every piece of text
 * from the server or the visitor is rendered with textContent, never as HTML.
 * Plain ES2020, no dependencies, no build step.
 */
(() => {
  "use strict";

  if (window.__omnideskWidget) return; // embedded twice: keep the first one
  window.__omnideskWidget = true;

  const TOKEN_KEY = "omnidesk.token";
  const OPEN_KEY = "omnidesk.open";
  const ERROR_VISIBLE_MS = 6000;
  const BACKOFF_BASE_MS = 500;
  const BACKOFF_CAP_MS = 20000;
  const AUTHORS = new Set(["contact", "bot", "agent", "system"]);
  // Error codes that refuse one message or action frame (and are not fatal).
  const FRAME_ERRORS = new Set(["too_large", "bad_frame", "rate_limited"]);

  // -- where the server is -------------------------------------------------------

  const script = document.currentScript || findOwnScript();
  const scriptUrl = new URL(script ? script.src : "/webchat/widget.js", location.href);
  // Everything before "/webchat/widget.js" is the server's base (keeps a path prefix).
  const basePath = scriptUrl.pathname.replace(/\/webchat\/widget\.js$/, "");
  const baseUrl = scriptUrl.origin + basePath;
  const wsUrl = baseUrl.replace(/^http/, "ws") + "/webchat/ws";
  const options = {
    open: readFlag(script, "open"),
    title: readText("title", 100),
    color: readText("color", 7),
    position: readText("position", 5),
    greeting: readText("greeting", 500),
    avatar: readText("avatar", 100000),
    offline_text: readText("offlineText", 300),
  };

  function findOwnScript() {
    const all = document.querySelectorAll('script[src*="/webchat/widget.js"]');
    return all.length ? all[all.length - 1] : null;
  }

  function readText(name, max) {
    const value = script && script.dataset[name];
    return typeof value === "string" ? value.trim().slice(0, max) : "";
  }

  function readFlag(el, name) {
    if (!el || !(name in el.dataset)) return null;
    const value = el.dataset[name].trim().toLowerCase();
    return value === "" || value === "true" || value === "1" || value === "yes";
  }

  // -- storage that survives blocked localStorage (private mode, sandboxed frames) --

  const memoryStore = new Map();
  const store = {
    get(area, key) {
      try {
        return window[area].getItem(key);
      } catch (_) {
        return memoryStore.has(key) ? memoryStore.get(key) : null;
      }
    },
    set(area, key, value) {
      try {
        window[area].setItem(key, value);
      } catch (_) {
        memoryStore.set(key, value);
      }
    },
    remove(area, key) {
      try {
        window[area].removeItem(key);
      } catch (_) {
        /* storage unavailable */
      }
      memoryStore.delete(key);
    },
  };

  function uuid() {
    if (window.crypto && typeof crypto.randomUUID === "function") {
      return crypto.randomUUID();
    }
    // randomUUID needs a secure context; getRandomValues does not.
    const b = crypto.getRandomValues(new Uint8Array(16));
    b[6] = (b[6] & 0x0f) | 0x40;
    b[8] = (b[8] & 0x3f) | 0x80;
    const h = Array.from(b, (x) => x.toString(16).padStart(2, "0"));
    return `${h.slice(0, 4).join("")}-${h.slice(4, 6).join("")}-${h
      .slice(6, 8)
      .join("")}-${h.slice(8, 10).join("")}-${h.slice(10).join("")}`;
  }

  // -- DOM helpers ---------------------------------------------------------------

  function el(tag, attrs, ...children) {
    const node = document.createElement(tag);
    for (const [name, value] of Object.entries(attrs || {})) {
      if (value === null || value === undefined || value === false) continue;
      if (name === "class") node.className = value;
      else if (name === "text") node.textContent = value;
      else node.setAttribute(name, value === true ? "" : String(value));
    }
    for (const child of children) if (child) node.append(child);
    return node;
  }

  // Static SVG icons built from fixed path data (no untrusted input).
  function icon(pathData) {
    const ns = "http://www.w3.org/2000/svg";
    const svg = document.createElementNS(ns, "svg");
    svg.setAttribute("viewBox", "0 0 24 24");
    svg.setAttribute("aria-hidden", "true");
    svg.setAttribute("focusable", "false");
    const path = document.createElementNS(ns, "path");
    path.setAttribute("d", pathData);
    svg.append(path);
    return svg;
  }
  const ICON_CHAT =
    "M4 4h16a2 2 0 0 1 2 2v10a2 2 0 0 1-2 2H9l-5 4v-4a2 2 0 0 1-2-2V6a2 2 0 0 1 2-2z";
  const ICON_CLOSE =
    "M6.4 5 12 10.6 17.6 5 19 6.4 13.4 12 19 17.6 17.6 19 12 13.4 6.4 19 5 17.6 10.6 12 5 6.4z";
  const ICON_SEND = "M3 20.5 21 12 3 3.5v6.6L15 12 3 13.9z";

  /** Only http(s) links (absolute or relative to the server) may become hrefs. */
  function safeHref(raw) {
    if (typeof raw !== "string" || !raw) return null;
    try {
      const url = new URL(raw, baseUrl + "/");
      return url.protocol === "http:" || url.protocol === "https:" ? url.href : null;
    } catch (_) {
      return null;
    }
  }

  function formatTime(iso) {
    if (!iso) return "";
    const date = new Date(iso);
    if (Number.isNaN(date.getTime())) return "";
    return date.toLocaleTimeString([], { hour: "2-digit", minute: "2-digit" });
  }

  // -- build the widget ----------------------------------------------------------

  const ui = {};
  ui.root = el("div", { id: "omnidesk-widget", "data-state": "closed" });
  // Hidden until the stylesheet arrives, so the host page never shows it unstyled.
  ui.root.style.display = "none";

  ui.launcher = el(
    "button",
    {
      type: "button",
      class: "od-launcher",
      "aria-label": "Open chat",
      "aria-expanded": "false",
      "aria-controls": "omnidesk-panel",
    },
    icon(ICON_CHAT),
  );
  ui.badge = el("span", { class: "od-badge", hidden: true, "aria-hidden": "true" });
  ui.launcher.append(ui.badge);

  ui.title = el("h2", { class: "od-title", id: "omnidesk-title", text: options.title || "Support" });
  // Decorative (the title next to it names the business); in the page only when set.
  ui.avatar = el("img", { class: "od-avatar", alt: "" });
  ui.greeting = el("p", { class: "od-greeting", hidden: true });
  ui.notice = el("p", { class: "od-notice", hidden: true });
  ui.status = el("span", {
    class: "od-status",
    "data-state": "connecting",
    role: "status",
    text: "Connecting…",
  });
  ui.close = el(
    "button",
    { type: "button", class: "od-close", "aria-label": "Close chat" },
    icon(ICON_CLOSE),
  );
  // A div, not a header: inside the host page a header would be a second banner landmark.
  const header = el(
    "div",
    { class: "od-header" },
    el("div", { class: "od-heading" }, ui.title, ui.status),
    ui.close,
  );

  // The greeting heads the log from the start, even before the service answers.
  ui.messages = el(
    "div",
    {
      class: "od-messages",
      role: "log",
      "aria-live": "polite",
      "aria-relevant": "additions",
      "aria-label": "Conversation",
      tabindex: "0",
    },
    ui.greeting,
  );
  ui.typing = el(
    "div",
    { class: "od-typing", hidden: true, "aria-label": "Typing", role: "status" },
    el("span", { class: "od-dot" }),
    el("span", { class: "od-dot" }),
    el("span", { class: "od-dot" }),
  );
  ui.error = el("div", { class: "od-error", role: "alert", hidden: true });

  ui.input = el("textarea", {
    class: "od-input",
    rows: "1",
    placeholder: "Write a message…",
    "aria-label": "Message",
    autocomplete: "off",
  });
  ui.send = el(
    "button",
    { type: "submit", class: "od-send", "aria-label": "Send message", disabled: true },
    icon(ICON_SEND),
  );
  ui.form = el("form", { class: "od-composer", novalidate: true }, ui.input, ui.send);

  ui.panel = el(
    "section",
    {
      class: "od-panel",
      id: "omnidesk-panel",
      role: "dialog",
      "aria-modal": "false",
      "aria-labelledby": "omnidesk-title",
      hidden: true,
    },
    header,
    ui.notice,
    ui.messages,
    ui.typing,
    ui.error,
    ui.form,
  );
  ui.root.append(ui.panel, ui.launcher);

  injectStylesheet();

  // -- the business's look and words ---------------------------------------------

  const HEX = /^#[0-9a-f]{6}$/i;
  const DATA_IMAGE = /^data:image\/(png|gif|jpeg|webp);base64,[a-z0-9+/]+=*$/i;

  /** The script tag's attributes win; the server's settings fill in the rest. */
  function applyLook(server) {
    const look = {};
    for (const key of ["title", "color", "position", "greeting", "avatar", "offline_text"]) {
      const given = server && typeof server[key] === "string" ? server[key] : "";
      // A mistyped colour on the tag falls back to the server's, not to none.
      const own = key === "color" && !HEX.test(options.color) ? "" : options[key];
      look[key] = own || given;
    }
    ui.title.textContent = look.title || "Support";
    ui.greeting.textContent = look.greeting;
    ui.greeting.hidden = !look.greeting;
    ui.notice.textContent = look.offline_text;
    ui.root.dataset.position = look.position === "left" ? "left" : "right";
    const avatar = safeImage(look.avatar);
    if (avatar) {
      ui.avatar.src = avatar;
      if (!ui.avatar.isConnected) header.prepend(ui.avatar);
    } else {
      ui.avatar.remove();
    }
    if (HEX.test(look.color)) {
      // Text on the colour is white or black, whichever contrasts more (always 4.5:1 or
      // better); the darker shade is readable as text on white.
      const lum = luminance(look.color);
      ui.root.style.setProperty("--od-accent", look.color);
      ui.root.style.setProperty("--od-accent-text", lum > 0.179 ? "#000000" : "#ffffff");
      ui.root.style.setProperty("--od-accent-dark", readableOnWhite(look.color));
    }
  }

  function safeImage(raw) {
    if (!raw) return null;
    if (DATA_IMAGE.test(raw)) return raw;
    try {
      const url = new URL(raw, baseUrl + "/");
      // Our own server only: a third party would learn of every visitor.
      return url.origin === scriptUrl.origin ? url.href : null;
    } catch (_) {
      return null;
    }
  }

  function luminance(hex) {
    const [r, g, b] = [1, 3, 5].map((i) => {
      const v = parseInt(hex.slice(i, i + 2), 16) / 255;
      return v <= 0.03928 ? v / 12.92 : ((v + 0.055) / 1.055) ** 2.4;
    });
    return 0.2126 * r + 0.7152 * g + 0.0722 * b;
  }

  function readableOnWhite(hex) {
    let rgb = [1, 3, 5].map((i) => parseInt(hex.slice(i, i + 2), 16));
    let out = hex;
    // At least one step darker (the hover shade), then on until 4.5:1 on white.
    do {
      rgb = rgb.map((v) => Math.round(v * 0.85));
      out = "#" + rgb.map((v) => v.toString(16).padStart(2, "0")).join("");
    } while (1.05 / (luminance(out) + 0.05) < 4.6);
    return out;
  }

  applyLook({});

  function mount() {
    document.body.append(ui.root);
    const stored = store.get("sessionStorage", OPEN_KEY);
    if (options.open === true || (options.open === null && stored === "1")) setOpen(true, false);
    connect();
  }

  function injectStylesheet() {
    const href = baseUrl + "/webchat/widget.css";
    let link = document.querySelector('link[data-omnidesk="widget"]');
    const reveal = () => {
      ui.root.style.display = "";
    };
    if (!link) {
      link = document.createElement("link");
      link.rel = "stylesheet";
      link.href = href;
      link.dataset.omnidesk = "widget";
      link.addEventListener("load", reveal);
      // Better an unstyled widget than none at all.
      link.addEventListener("error", reveal);
      document.head.append(link);
    } else if (link.sheet) {
      queueMicrotask(reveal);
    } else {
      link.addEventListener("load", reveal);
      link.addEventListener("error", reveal);
    }
    setTimeout(reveal, 4000);
  }

  // -- open / close --------------------------------------------------------------

  let unread = 0;

  function setOpen(open, focus = true) {
    ui.panel.hidden = !open;
    ui.root.dataset.state = open ? "open" : "closed";
    ui.launcher.setAttribute("aria-expanded", String(open));
    ui.launcher.setAttribute("aria-label", open ? "Close chat" : "Open chat");
    ui.launcher.replaceChildren(icon(open ? ICON_CLOSE : ICON_CHAT), ui.badge);
    store.set("sessionStorage", OPEN_KEY, open ? "1" : "0");
    if (open) {
      unread = 0;
      updateBadge();
      scrollToBottom(true);
      if (focus) ui.input.focus({ preventScroll: true });
    } else if (focus) {
      ui.launcher.focus({ preventScroll: true });
    }
  }

  function isOpen() {
    return !ui.panel.hidden;
  }

  function updateBadge() {
    ui.badge.hidden = unread === 0;
    ui.badge.textContent = unread > 9 ? "9+" : String(unread);
    ui.launcher.setAttribute(
      "aria-label",
      isOpen() ? "Close chat" : unread ? `Open chat, ${unread} new` : "Open chat",
    );
  }

  ui.launcher.addEventListener("click", () => setOpen(!isOpen()));
  ui.close.addEventListener("click", () => setOpen(false));
  // On the launcher too: while open it is the panel's other close button.
  ui.root.addEventListener("keydown", (event) => {
    if (event.key === "Escape" && isOpen()) {
      event.stopPropagation();
      setOpen(false);
    }
  });

  // Phones: the keyboard shrinks the visual viewport only; the full-screen panel follows
  // it (widget.css) so the input stays above the keyboard.
  const viewport = window.visualViewport;
  if (viewport) {
    const fit = () => {
      ui.root.style.setProperty("--od-vh", `${viewport.height}px`);
      ui.root.style.setProperty("--od-vtop", `${viewport.offsetTop}px`);
    };
    viewport.addEventListener("resize", fit);
    viewport.addEventListener("scroll", fit);
    fit();
  }

  // -- rendering messages --------------------------------------------------------

  const rendered = new Map(); // server message id -> element
  const byClientId = new Map(); // client message id -> element

  function isNearBottom() {
    const m = ui.messages;
    return m.scrollHeight - m.scrollTop - m.clientHeight < 80;
  }

  function scrollToBottom(force) {
    if (force === true || (force !== false && isNearBottom())) {
      requestAnimationFrame(() => {
        ui.messages.scrollTop = ui.messages.scrollHeight;
      });
    }
  }

  function normalise(message) {
    if (!message || typeof message !== "object") return null;
    const author = AUTHORS.has(message.author) ? message.author : "system";
    return {
      id: message.id ?? null,
      author,
      authorName: typeof message.author_name === "string" ? message.author_name : null,
      text: typeof message.text === "string" ? message.text : "",
      buttons: Array.isArray(message.buttons) ? message.buttons : [],
      citations: Array.isArray(message.citations) ? message.citations : [],
      createdAt: message.created_at || null,
      clientId: typeof message.client_id === "string" ? message.client_id : null,
      // The label of the button already pressed in this group (from the history).
      answered: typeof message.answered === "string" ? message.answered : null,
    };
  }

  function buildMessage(msg) {
    const node = el("div", { class: `od-msg od-${msg.author}` });
    if (msg.id !== null) node.dataset.id = String(msg.id);
    if (msg.clientId) node.dataset.clientId = msg.clientId;

    if (msg.author === "agent") {
      node.append(el("div", { class: "od-author", text: msg.authorName || "Agent" }));
    }
    node.append(el("div", { class: "od-text", text: msg.text }));

    const citations = msg.citations
      .map((c) => ({ href: safeHref(c && c.url), title: c && (c.title || c.slug) }))
      .filter((c) => c.href && typeof c.title === "string" && c.title);
    if (citations.length) {
      const list = el("ul", { class: "od-citations", "aria-label": "Sources" });
      for (const c of citations) {
        list.append(
          el(
            "li",
            { class: "od-citation" },
            el("a", { href: c.href, target: "_blank", rel: "noopener noreferrer", text: c.title }),
          ),
        );
      }
      node.append(list);
    }

    const buttons = msg.buttons.filter(
      (b) => b && typeof b.label === "string" && typeof b.payload === "string",
    );
    if (buttons.length) {
      const group = el("div", { class: "od-buttons", role: "group", "aria-label": "Quick replies" });
      for (const b of buttons) {
        const button = el("button", { type: "button", text: b.label });
        button.addEventListener("click", () => pressButton(group, button, b, msg.id));
        group.append(button);
        if (msg.answered !== null) markUsed(group, button, b.label === msg.answered);
      }
      node.append(group);
    }

    const time = formatTime(msg.createdAt);
    if (time) {
      const stamp = el("time", { class: "od-time", text: time });
      stamp.dateTime = msg.createdAt;
      node.append(stamp);
    }
    return node;
  }

  /** Adds a server message; returns false when that id is already shown. */
  function addMessage(raw, { live = true } = {}) {
    const msg = normalise(raw);
    if (!msg) return false;
    if (msg.id !== null && rendered.has(String(msg.id))) return false;

    // Measured before the message grows the list: follow along only if the
    // visitor was already reading the latest messages.
    const stick = isNearBottom();
    const node = buildMessage(msg);
    const pending = msg.clientId ? byClientId.get(msg.clientId) : null;
    if (pending && pending.isConnected) {
      // The echo of our own optimistic message: swap it in place, keep the order.
      pending.replaceWith(node);
    } else {
      ui.messages.append(node);
    }
    if (msg.clientId) {
      byClientId.set(msg.clientId, node);
      outbox.delete(msg.clientId);
    }
    if (msg.id !== null) rendered.set(String(msg.id), node);

    if (live && (msg.author === "bot" || msg.author === "agent")) {
      setTyping(false);
      if (!isOpen()) {
        unread += 1;
        updateBadge();
      }
    }
    scrollToBottom(stick || msg.author === "contact");
    return true;
  }

  function addOptimistic(clientId, text) {
    const node = buildMessage({
      id: null,
      author: "contact",
      authorName: null,
      text,
      buttons: [],
      citations: [],
      createdAt: null,
      clientId,
    });
    node.classList.add("od-pending");
    ui.messages.append(node);
    byClientId.set(clientId, node);
    scrollToBottom(true);
    return node;
  }

  function renderHistory(history) {
    // Busy while redrawn, so screen readers do not read the whole history out again.
    ui.messages.setAttribute("aria-busy", "true");
    rendered.clear();
    byClientId.clear();
    ui.messages.replaceChildren(ui.greeting);
    for (const message of Array.isArray(history) ? history : []) {
      addMessage(message, { live: false });
    }
    // Messages typed while offline that the server has not seen yet stay visible.
    for (const item of outbox.values()) {
      if (byClientId.has(item.frame.id)) {
        outbox.delete(item.frame.id);
        continue;
      }
      const node = addOptimistic(item.frame.id, item.text);
      if (item.failed) markFailed(item.frame.id, node);
    }
    ui.messages.removeAttribute("aria-busy");
    scrollToBottom(true);
  }

  // -- errors, typing, status ----------------------------------------------------

  let errorTimer = 0;
  function showError(text) {
    ui.error.textContent = text || "Something went wrong.";
    ui.error.hidden = false;
    clearTimeout(errorTimer);
    errorTimer = setTimeout(() => {
      ui.error.hidden = true;
    }, ERROR_VISIBLE_MS);
  }

  function setTyping(on) {
    ui.typing.hidden = !on;
    if (on) scrollToBottom();
  }

  function setStatus(state, text) {
    ui.status.dataset.state = state;
    ui.status.textContent = text;
    ui.notice.hidden = state !== "offline" || !ui.notice.textContent;
  }

  // -- sending -------------------------------------------------------------------

  // Frames the server has not acknowledged yet, by client id; resent after a
  // reconnect (the server dedupes by client id, so a resend is never doubled).
  const outbox = new Map();

  function submit(frame, text) {
    const item = { frame, text, sent: false, failed: false };
    outbox.set(frame.id, item);
    flush();
  }

  function flush() {
    if (!ready) return;
    for (const item of outbox.values()) {
      if (item.sent || item.failed) continue;
      try {
        socket.send(JSON.stringify(item.frame));
        item.sent = true;
      } catch (_) {
        return; // the close handler reconnects and we flush again
      }
    }
  }

  function markFailed(clientId, node) {
    const item = outbox.get(clientId);
    if (item) item.failed = true;
    const target = node || byClientId.get(clientId);
    if (!target || !target.classList.contains("od-pending")) return;
    target.classList.add("od-failed");
    if (target.querySelector(".od-retry")) return;
    const retry = el("button", { type: "button", class: "od-retry", text: "Not sent. Retry" });
    retry.addEventListener("click", () => {
      const again = outbox.get(clientId);
      retry.remove();
      target.classList.remove("od-failed");
      if (!again) return;
      again.failed = false;
      again.sent = false;
      flush();
    });
    target.append(retry);
  }

  function sendText() {
    const text = ui.input.value;
    if (!text.trim()) return;
    const id = uuid();
    addOptimistic(id, text);
    submit({ type: "message", id, text }, text);
    ui.input.value = "";
    autosize();
    updateSendButton();
  }

  /** ``messageId``: the message the button belongs to, so feedback lands on that answer. */
  function pressButton(group, pressed, button, messageId) {
    for (const b of group.querySelectorAll("button")) markUsed(group, b, b === pressed);
    // Named after the message, so the server's history can tell this group was answered.
    const id = Number.isInteger(messageId) ? `m${messageId}-${uuid()}` : uuid();
    addOptimistic(id, button.label);
    const frame = { type: "action", id, payload: button.payload, label: button.label };
    if (Number.isInteger(messageId)) frame.message_id = messageId;
    submit(frame, button.label);
  }

  function markUsed(group, button, chosen) {
    button.disabled = true;
    group.classList.add("od-used");
    if (chosen) {
      button.classList.add("od-chosen");
      button.setAttribute("aria-pressed", "true");
    }
  }

  function updateSendButton() {
    ui.send.disabled = !ui.input.value.trim();
  }

  function autosize() {
    ui.input.style.height = "auto";
    ui.input.style.height = `${Math.min(ui.input.scrollHeight, 140)}px`;
  }

  ui.form.addEventListener("submit", (event) => {
    event.preventDefault();
    sendText();
  });
  ui.input.addEventListener("keydown", (event) => {
    // Enter sends, Shift+Enter is a newline; never send mid-IME composition.
    if (event.key === "Enter" && !event.shiftKey && !event.isComposing && event.keyCode !== 229) {
      event.preventDefault();
      sendText();
    }
  });
  ui.input.addEventListener("input", () => {
    autosize();
    updateSendButton();
  });

  // -- the socket ----------------------------------------------------------------

  let socket = null;
  let ready = false; // welcomed on the current socket
  let attempt = 0;
  let reconnectTimer = 0;

  function connect() {
    clearTimeout(reconnectTimer);
    reconnectTimer = 0;
    if (socket) return;
    setStatus(attempt ? "reconnecting" : "connecting", attempt ? "Reconnecting…" : "Connecting…");
    let ws;
    try {
      ws = new WebSocket(wsUrl);
    } catch (_) {
      scheduleReconnect();
      return;
    }
    socket = ws;
    ws.addEventListener("open", () => {
      if (ws !== socket) return;
      ws.send(JSON.stringify({ type: "hello", token: store.get("localStorage", TOKEN_KEY) }));
    });
    ws.addEventListener("message", (event) => {
      if (ws !== socket) return;
      let frame;
      try {
        frame = JSON.parse(event.data);
      } catch (_) {
        return; // not ours to interpret
      }
      if (frame && typeof frame === "object") handleFrame(frame, ws);
    });
    ws.addEventListener("close", () => {
      if (ws !== socket) return;
      socket = null;
      ready = false;
      setTyping(false);
      // Unacknowledged frames go out again once we are back.
      for (const item of outbox.values()) item.sent = false;
      scheduleReconnect();
    });
    // An error is always followed by close, which does the work.
  }

  function scheduleReconnect(immediate = false) {
    if (reconnectTimer || socket) return;
    const exp = Math.min(BACKOFF_CAP_MS, BACKOFF_BASE_MS * 2 ** Math.min(attempt, 16));
    // Equal jitter: half fixed, half random, so many clients do not reconnect in step.
    const delay = immediate ? 0 : exp / 2 + Math.random() * (exp / 2);
    attempt += 1;
    setStatus("offline", navigator.onLine === false ? "Offline" : "Reconnecting…");
    reconnectTimer = setTimeout(connect, delay);
  }

  function reconnectSoon() {
    // Coming back online or to the tab: skip the rest of a long back-off.
    if (!socket && reconnectTimer) {
      clearTimeout(reconnectTimer);
      reconnectTimer = 0;
      connect();
    }
  }
  window.addEventListener("online", reconnectSoon);
  document.addEventListener("visibilitychange", () => {
    if (document.visibilityState === "visible") reconnectSoon();
  });

  let freshAfterInvalidToken = false;

  function handleFrame(frame, ws) {
    switch (frame.type) {
      case "welcome":
        ready = true;
        attempt = 0;
        freshAfterInvalidToken = false;
        if (typeof frame.token === "string" && frame.token) {
          store.set("localStorage", TOKEN_KEY, frame.token);
        }
        // Older servers sent only a title.
        applyLook(frame.look && typeof frame.look === "object" ? frame.look : { title: frame.title });
        setStatus("online", "Online");
        renderHistory(frame.history);
        flush();
        break;
      case "ack": {
        outbox.delete(frame.id);
        const node = byClientId.get(frame.id);
        if (node) node.classList.remove("od-pending", "od-failed");
        break;
      }
      case "typing":
        setTyping(Boolean(frame.on));
        break;
      case "message":
        addMessage(frame.message);
        break;
      case "error":
        handleError(frame, ws);
        break;
      default:
        break; // newer server, older widget: ignore what we do not know
    }
  }

  function handleError(frame, ws) {
    if (frame.code === "invalid_token") {
      store.remove("localStorage", TOKEN_KEY);
      // A fresh session straight away; if even that is refused, back off as usual.
      const immediate = !freshAfterInvalidToken;
      freshAfterInvalidToken = true;
      socket = null;
      ready = false;
      try {
        ws.close(1000, "invalid token");
      } catch (_) {
        /* already closing */
      }
      for (const item of outbox.values()) item.sent = false;
      if (immediate) {
        attempt = 0;
        connect();
      } else {
        scheduleReconnect();
      }
      return;
    }
    const failed = typeof frame.id === "string" ? frame.id : refusedFrame(frame.code);
    if (failed && outbox.has(failed)) markFailed(failed);
    showError(typeof frame.message === "string" && frame.message ? frame.message : errorText(frame.code));
  }

  /**
   * The client id of the frame an error without an id refers to. The server answers
   * the frames of one socket in order, each with an ack or an error, so a refusal
   * belongs to the oldest frame sent and not yet acknowledged.
   */
  function refusedFrame(code) {
    if (!FRAME_ERRORS.has(code)) return null;
    for (const item of outbox.values()) {
      if (item.sent && !item.failed) return item.frame.id;
    }
    return null;
  }

  function errorText(code) {
    switch (code) {
      case "too_large":
        return "That message is too long.";
      case "rate_limited":
        return "You are sending messages too quickly. Please wait a moment.";
      default:
        return "Something went wrong. Please try again.";
    }
  }

  // -- start -----------------------------------------------------------------------

  if (document.body) mount();
  else document.addEventListener("DOMContentLoaded", mount, { once: true });
})();
