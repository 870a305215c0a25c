/*
 * The reply box: a reply to the customer or an internal note (n / the toggle), canned
 * responses inserted by typing "/" and their short code or with Ctrl+K, typing frames
 * for the other agents, and a question before a reply that would cross someone else's.
 */
import { api, ApiError, report } from "./api.js";
import { $, $$, el, fire } from "./dom.js";
import * as conversation from "./conversation.js";
import * as live from "./live.js";

const ui = {
  form: $(".oc-composer"),
  box: $(".oc-reply"),
  send: $(".oc-send"),
  modes: $$(".oc-mode"),
  menu: $(".oc-canned-menu"),
};

const state = { mode: "reply", busy: false, canned: [], matches: [], active: 0 };

export function setMode(mode) {
  state.mode = mode === "note" ? "note" : "reply";
  for (const button of ui.modes) {
    const on = button.dataset.mode === state.mode;
    button.classList.toggle("oc-active", on);
    button.setAttribute("aria-pressed", String(on));
  }
  ui.form.classList.toggle("oc-composing-note", state.mode === "note");
  ui.box.placeholder =
    state.mode === "note"
      ? "Write an internal note — only agents see it. @name mentions a colleague."
      : "Write a reply… (Enter sends, Shift+Enter for a new line, / for canned responses)";
  ui.send.textContent = state.mode === "note" ? "Add note" : "Send";
}

export function focus(mode) {
  if (mode) setMode(mode);
  ui.box.focus();
}

export function clear() {
  ui.box.value = "";
  closeMenu();
}

async function send(confirmed = false) {
  const { id } = conversation.current();
  const text = ui.box.value;
  if (id === null || !text.trim() || state.busy) return;
  state.busy = true;
  ui.send.disabled = true;
  live.stopTyping(Number(id));
  const path = `/conversations/${encodeURIComponent(id)}/${state.mode === "note" ? "notes" : "messages"}`;
  const body = { text };
  const lastSeen = conversation.lastSeenId();
  if (state.mode === "reply" && !confirmed && lastSeen) body.last_seen_message_id = lastSeen;
  try {
    const data = await api("POST", path, body);
    if (id === conversation.current().id) {
      ui.box.value = "";
      conversation.append(data.message);
    }
    fire("conversation:changed", id);
  } catch (err) {
    if (err instanceof ApiError && err.code === "newer_reply") {
      // Someone answered meanwhile: show it, then ask before sending over it.
      await conversation.reload().catch(() => {});
      state.busy = false;
      ui.send.disabled = false;
      if (window.confirm(`${err.message}. Send your reply anyway?`)) await send(true);
      return;
    }
    report(err); // the text stays in the box so nothing is lost
  } finally {
    state.busy = false;
    ui.send.disabled = false;
    ui.box.focus();
  }
}

// -- canned responses -------------------------------------------------------------------

export async function loadCanned() {
  const data = await api("GET", "/canned");
  state.canned = Array.isArray(data.canned) ? data.canned : [];
}

function slashQuery() {
  const match = /^\/([a-z0-9_-]*)$/i.exec(ui.box.value);
  return match ? match[1].toLowerCase() : null;
}

function openMenu(filter) {
  state.matches = state.canned.filter((c) => c.short_code.startsWith(filter) || (c.title || "").toLowerCase().includes(filter));
  state.active = 0;
  if (!state.matches.length) {
    ui.menu.replaceChildren(el("li", { class: "oc-canned-none", text: filter ? `No canned response “${filter}”` : "No canned responses yet" }));
    ui.menu.hidden = false;
    return;
  }
  ui.menu.replaceChildren(
    ...state.matches.map((c, i) => {
      const item = el(
        "li",
        { class: "oc-canned-item", role: "option", "data-code": c.short_code, "aria-selected": String(i === 0) },
        el("span", { class: "oc-canned-code", text: `/${c.short_code}` }),
        el("span", { class: "oc-canned-title", text: c.title || c.body.slice(0, 60) }),
      );
      item.addEventListener("mousedown", (event) => {
        event.preventDefault();
        pick(c);
      });
      return item;
    }),
  );
  ui.menu.hidden = false;
}

function closeMenu() {
  ui.menu.hidden = true;
  state.matches = [];
}

function moveActive(delta) {
  if (!state.matches.length) return;
  state.active = (state.active + delta + state.matches.length) % state.matches.length;
  $$(".oc-canned-item", ui.menu).forEach((item, i) => item.setAttribute("aria-selected", String(i === state.active)));
}

async function pick(canned) {
  closeMenu();
  const { id } = conversation.current();
  if (id === null) return;
  try {
    const data = await api("POST", `/canned/${canned.id}/render`, { conversation_id: Number(id) });
    ui.box.value = typeof data.text === "string" ? data.text : "";
    ui.box.focus();
    ui.box.setSelectionRange(ui.box.value.length, ui.box.value.length);
  } catch (err) {
    report(err);
  }
}

/** Ctrl+K: the canned responses, filtered by what follows the "/". */
export function openCanned() {
  if (!ui.box.value.startsWith("/")) ui.box.value = "/";
  ui.box.focus();
  openMenu(slashQuery() || "");
}

function onKeydown(event) {
  if (!ui.menu.hidden && state.matches.length) {
    if (event.key === "ArrowDown" || event.key === "ArrowUp") {
      event.preventDefault();
      moveActive(event.key === "ArrowDown" ? 1 : -1);
      return;
    }
    if (event.key === "Enter" || event.key === "Tab") {
      event.preventDefault();
      pick(state.matches[state.active]);
      return;
    }
  }
  if (event.key === "Escape" && !ui.menu.hidden) {
    event.preventDefault();
    closeMenu();
    return;
  }
  if ((event.ctrlKey || event.metaKey) && event.key.toLowerCase() === "k") {
    event.preventDefault();
    openCanned();
    return;
  }
  if (event.key === "Enter" && !event.shiftKey && !event.isComposing && event.keyCode !== 229) {
    event.preventDefault();
    send();
  }
}

export function init() {
  ui.form.addEventListener("submit", (event) => {
    event.preventDefault();
    send();
  });
  ui.box.addEventListener("keydown", onKeydown);
  ui.box.addEventListener("input", () => {
    const filter = slashQuery();
    if (filter !== null && state.mode === "reply") openMenu(filter);
    else closeMenu();
    const { id } = conversation.current();
    if (id !== null && state.mode === "reply" && ui.box.value.trim()) live.typing(Number(id));
  });
  // Later, so a click on the menu lands first; not if the box has the focus again.
  ui.box.addEventListener("blur", () =>
    setTimeout(() => {
      if (document.activeElement !== ui.box) closeMenu();
    }, 150),
  );
  for (const button of ui.modes) button.addEventListener("click", () => focus(button.dataset.mode));
  setMode("reply");
}
