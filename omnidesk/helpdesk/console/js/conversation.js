/*
 * The selected conversation: its header (contact, state, assignee, team, ticket, who
 * else is viewing or typing) and its messages, notes styled apart. Live frames append
 * messages as they come, and redraw one the customer edited or deleted in place; a
 * refresh only adds what is new, so scroll and focus stay.
 */
import { api, ApiError, auth } from "./api.js";
import { $, clockTime, contactLabel, el, fire, metaItem, on, safeHref, showError } from "./dom.js";
import * as live from "./live.js";

const AUTHOR_LABELS = { contact: "Customer", bot: "Bot", agent: "Agent", system: "System" };

const state = {
  id: null,
  conversation: null,
  contact: null,
  messageIds: [],
  lastId: 0,
  seq: 0,
  viewers: [],
  typing: new Map(), // agent id -> {name, until}
};

const ui = {
  placeholder: $(".oc-placeholder"),
  pane: $(".oc-conversation"),
  contactName: $(".oc-contact-name"),
  meta: $(".oc-meta"),
  presence: $(".oc-presence"),
  messages: $(".oc-messages"),
};

export function current() {
  return state;
}

/** The newest message id on screen: a reply sent now answers up to there. */
export function lastSeenId() {
  return state.lastId || null;
}

export async function open(id) {
  if (state.id !== id) {
    state.id = id;
    state.conversation = null;
    state.contact = null;
    state.messageIds = [];
    state.lastId = 0;
    state.viewers = [];
    state.typing.clear();
    ui.messages.replaceChildren();
    renderPresence();
    live.view(id === null ? null : Number(id));
  }
  ui.placeholder.hidden = id !== null;
  ui.pane.hidden = id === null;
  if (id === null) return;
  ui.contactName.textContent = "Loading…";
  await reload();
}

export async function reload() {
  const id = state.id;
  if (id === null) return;
  const seq = ++state.seq;
  let data;
  try {
    data = await api("GET", `/conversations/${encodeURIComponent(id)}`);
  } catch (err) {
    if (err instanceof ApiError && err.status === 404 && id === state.id) {
      fire("conversation:gone", id);
      showError("That conversation no longer exists.");
      return;
    }
    throw err;
  }
  if (seq !== state.seq || id !== state.id) return;
  state.contact = data.contact || null;
  renderHeader(data.conversation);
  renderMessages(Array.isArray(data.messages) ? data.messages : []);
  fire("contact:loaded", state.contact);
  markRead();
}

export function renderHeader(conv) {
  if (!conv || String(conv.id) !== String(state.id)) return;
  state.conversation = conv;
  ui.contactName.textContent = contactLabel(conv);
  const parts = [
    metaItem("State", conv.state, `oc-state-${conv.state}`),
    conv.state === "snoozed" ? metaItem("Until", clockTime(conv.snoozed_until)) : null,
    metaItem("Channel", conv.channel),
    metaItem("Assignee", conv.assignee ? conv.assignee.name : "nobody"),
    conv.team ? metaItem("Team", conv.team.name) : null,
    metaItem("Priority", conv.priority),
    conv.ticket ? metaItem("Ticket", `#${conv.ticket.id} · ${conv.ticket.state || ""}`.trim()) : null,
  ];
  ui.meta.replaceChildren(...parts.filter(Boolean));
  fire("conversation:rendered", conv);
}

function authorName(msg) {
  if (msg.author === "contact") return contactLabel(state.conversation);
  if (msg.author === "agent") return msg.author_name || "Agent";
  return AUTHOR_LABELS[msg.author] || "System";
}

function buildMessage(msg) {
  const author = AUTHOR_LABELS[msg.author] ? msg.author : "system";
  const cls = msg.private ? "oc-msg oc-note" : `oc-msg oc-${author}`;
  const node = el("article", { class: cls, "data-id": String(msg.id) });
  const head = el(
    "header",
    { class: "oc-msg-head" },
    el("span", { class: "oc-msg-author", text: authorName(msg) }),
    msg.private ? el("span", { class: "oc-note-tag", text: "internal note" }) : null,
    el("time", { class: "oc-msg-time", text: clockTime(msg.created_at), datetime: msg.created_at || null }),
  );
  if (author === "bot" && typeof msg.confidence === "number") {
    head.append(el("span", { class: "oc-confidence", text: `confidence ${msg.confidence.toFixed(2)}` }));
  }
  if (msg.deleted) {
    head.append(el("span", { class: "oc-msg-flag", text: "deleted" }));
    node.classList.add("oc-deleted");
    node.append(head, el("div", { class: "oc-msg-text oc-muted", text: "The customer deleted this message." }));
    return node;
  }
  if (msg.redacted) {
    head.append(el("span", { class: "oc-msg-flag", text: "removed" }));
    node.classList.add("oc-deleted");
    node.append(head, el("div", { class: "oc-msg-text oc-muted", text: "Removed (erasure or retention)." }));
    return node;
  }
  if (msg.edited) head.append(el("span", { class: "oc-msg-flag", text: "edited" }));
  node.append(head, el("div", { class: "oc-msg-text", text: typeof msg.text === "string" ? msg.text : "" }));
  const files = (Array.isArray(msg.attachments) ? msg.attachments : []).filter((a) => a && a.filename);
  if (files.length) {
    const list = el("ul", { class: "oc-files", "aria-label": "Files" });
    for (const f of files) {
      const href = safeHref(f.url);
      const name = String(f.filename);
      list.append(el("li", {}, href ? el("a", { href, target: "_blank", rel: "noopener noreferrer", text: name }) : el("span", { text: name })));
    }
    node.append(list);
  }
  const earlier = (Array.isArray(msg.revisions) ? msg.revisions : []).filter((r) => r && typeof r.text === "string");
  if (earlier.length) {
    // What the customer first wrote (and the bot may have answered), oldest first.
    const details = el("details", { class: "oc-revisions" }, el("summary", { text: `Earlier wording (${earlier.length})` }));
    for (const r of earlier) details.append(el("p", { class: "oc-muted", text: `${clockTime(r.at)} ${r.text}`.trim() }));
    node.append(details);
  }
  const citations = (Array.isArray(msg.citations) ? msg.citations : [])
    .map((c) => ({ href: safeHref(c && c.url), title: c && (c.title || c.slug) }))
    .filter((c) => c.href && c.title);
  if (citations.length) {
    const list = el("ul", { class: "oc-citations", "aria-label": "Sources" });
    for (const c of citations) {
      list.append(el("li", {}, el("a", { href: c.href, target: "_blank", rel: "noopener noreferrer", text: String(c.title) })));
    }
    node.append(list);
  }
  const buttons = (Array.isArray(msg.buttons) ? msg.buttons : []).filter((b) => b && typeof b.label === "string");
  if (buttons.length) {
    node.append(el("div", { class: "oc-chips", "aria-label": "Offered buttons" }, ...buttons.map((b) => el("span", { class: "oc-chip", text: b.label }))));
  }
  return node;
}

function renderMessages(messages) {
  const valid = messages.filter((m) => m && m.id !== undefined && m.id !== null);
  const ids = valid.map((m) => String(m.id));
  const known = state.messageIds;
  const nearBottom = ui.messages.scrollHeight - ui.messages.scrollTop - ui.messages.clientHeight < 80;
  const isExtension = known.length <= ids.length && known.every((id, i) => ids[i] === id);
  if (!isExtension) {
    ui.messages.replaceChildren();
    state.messageIds = [];
  }
  const start = state.messageIds.length;
  for (const msg of valid.slice(start)) addMessage(msg);
  if (!isExtension || start === 0 || nearBottom) ui.messages.scrollTop = ui.messages.scrollHeight;
}

function addMessage(msg) {
  const id = String(msg.id);
  if (state.messageIds.includes(id)) {
    // The same message again: the customer edited or deleted it; redraw it in place.
    const shown = ui.messages.querySelector(`article[data-id="${CSS.escape(id)}"]`);
    if (shown) shown.replaceWith(buildMessage(msg));
    return false;
  }
  ui.messages.append(buildMessage(msg));
  state.messageIds.push(id);
  state.lastId = Math.max(state.lastId, Number(msg.id) || 0);
  return true;
}

/** A message that arrived live or was just sent. */
export function append(msg) {
  if (!msg || msg.id === undefined || msg.id === null) return;
  if (String(msg.conversation_id) !== String(state.id)) return;
  if (addMessage(msg)) {
    ui.messages.scrollTop = ui.messages.scrollHeight;
    if (msg.author === "agent") {
      state.typing.delete(`${msg.author_id}:${msg.author_name}`); // sent: no longer typing
      renderPresence();
    }
    markRead();
  }
}

let readTimer = 0;
/** Move the read marker to the newest message on screen, once things settle. */
function markRead() {
  if (!auth.agent || !state.lastId || document.visibilityState === "hidden") return;
  clearTimeout(readTimer);
  const id = state.id;
  const upTo = state.lastId;
  readTimer = setTimeout(() => {
    api("POST", `/conversations/${encodeURIComponent(id)}/read`, { message_id: upTo })
      .then(() => fire("conversation:read", id))
      .catch(() => {});
  }, 400);
}

function renderPresence() {
  const now = Date.now();
  // The server never echoes one's own typing, so every typist is someone else.
  const typing = [...state.typing.values()].filter((t) => t.until > now).map((t) => t.name);
  // Viewers include this very page: leave one entry that is me out.
  const viewers = state.viewers.slice();
  const self = live.hello();
  const mine = viewers.findIndex((v) => v && self && v.id === self.id);
  if (mine !== -1) viewers.splice(mine, 1);
  const viewing = viewers.filter((v) => v && !typing.includes(v.name)).map((v) => v.name);
  const parts = [];
  if (typing.length) parts.push(`${typing.join(", ")} ${typing.length === 1 ? "is" : "are"} typing…`);
  if (viewing.length) parts.push(`${viewing.join(", ")} ${viewing.length === 1 ? "is" : "are"} viewing`);
  ui.presence.textContent = parts.join(" · ");
  ui.presence.hidden = parts.length === 0;
}

export function init() {
  on("live:message", (frame) => append(frame.message));
  on("live:presence", (frame) => {
    if (String(frame.conversation_id) !== String(state.id)) return;
    state.viewers = Array.isArray(frame.viewers) ? frame.viewers : [];
    renderPresence();
  });
  on("live:typing", (frame) => {
    if (String(frame.conversation_id) !== String(state.id) || !frame.agent) return;
    const who = `${frame.agent.id}:${frame.agent.name}`;
    if (frame.typing) state.typing.set(who, { name: frame.agent.name, until: Date.now() + 6000 });
    else state.typing.delete(who);
    renderPresence();
    setTimeout(renderPresence, 6100);
  });
  on("live:conversation", (frame) => renderHeader(frame.conversation));
  on("live:up", () => live.view(state.id === null ? null : Number(state.id)));
  document.addEventListener("visibilitychange", markRead);
}
