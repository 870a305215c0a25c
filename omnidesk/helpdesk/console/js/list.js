/*
 * The conversation list: views (mine, unassigned, my teams, all) with their counts,
 * filters (state, channel, priority, label, assignee, team), unread badges, and j/k
 * to move through it. Rows are updated in place so focus and scroll survive refreshes.
 */
import { api } from "./api.js";
import { $, $$, clockTime, contactLabel, el, fire, relativeTime, storageGet, storageSet } from "./dom.js";

const VIEW_KEY = "omnidesk.console_list_view";
const VIEWS = ["mine", "unassigned", "teams", "all"];
const AUTHOR_LABELS = { contact: "", bot: "Bot: ", agent: "Agent: ", system: "System: " };

const state = {
  view: VIEWS.includes(storageGet("sessionStorage", VIEW_KEY)) ? storageGet("sessionStorage", VIEW_KEY) : "unassigned",
  selectedId: null,
  rows: [],
  signatures: new Map(),
  seq: 0,
};

const ui = {
  tabs: $$(".oc-view-tab"),
  list: $(".oc-list"),
  empty: $(".oc-empty"),
  filters: {
    state: $(".oc-filter-state"),
    channel: $(".oc-filter-channel"),
    priority: $(".oc-filter-priority"),
    label: $(".oc-filter-label"),
    assignee_id: $(".oc-filter-assignee"),
    team_id: $(".oc-filter-team"),
  },
};

export function selected() {
  return state.selectedId;
}

export function rows() {
  return state.rows;
}

function query() {
  const params = new URLSearchParams({ view: state.view });
  for (const [name, input] of Object.entries(ui.filters)) {
    const value = input.value.trim();
    if (value) params.set(name, value);
  }
  return params.toString();
}

export async function load() {
  const seq = ++state.seq;
  const data = await api("GET", `/conversations?${query()}`);
  if (seq !== state.seq) return; // a newer request won
  renderCounts(data.counts || {});
  render(Array.isArray(data.conversations) ? data.conversations : []);
}

function renderCounts(counts) {
  for (const tab of ui.tabs) {
    const count = counts[tab.dataset.view];
    tab.querySelector(".oc-count").textContent = typeof count === "number" ? String(count) : "";
  }
}

export function selectView(view) {
  state.view = VIEWS.includes(view) ? view : "unassigned";
  storageSet("sessionStorage", VIEW_KEY, state.view);
  for (const tab of ui.tabs) {
    const active = tab.dataset.view === state.view;
    tab.classList.toggle("oc-active", active);
    tab.setAttribute("aria-selected", String(active));
    tab.tabIndex = active ? 0 : -1;
  }
  ui.list.replaceChildren();
  state.signatures.clear();
  ui.empty.hidden = true;
  fire("list:changed");
}

function snippetOf(last) {
  return last
    ? `${last.private ? "Note: " : AUTHOR_LABELS[last.author] || ""}${last.text || ""}`
    : "No messages yet";
}

/**
 * A live message shows on its row at once; the refresh that follows brings the counts,
 * the order and the rest of the row.
 */
export function showMessage(conversationId, message) {
  if (!message || conversationId === undefined || conversationId === null) return;
  const id = String(conversationId);
  const button = ui.list.querySelector(`.oc-conv[data-id="${CSS.escape(id)}"]`);
  const line = button && button.querySelector(".oc-conv-snippet");
  if (!line) return;
  line.textContent = snippetOf(message);
  state.signatures.delete(id);
}

function buildRow(conv) {
  const snippet = snippetOf(conv.last_message);
  const labels = Array.isArray(conv.labels) ? conv.labels : [];
  const badges = el(
    "span",
    { class: "oc-badges" },
    el("span", { class: `oc-badge oc-state-${conv.state}`, text: conv.state || "" }),
    el("span", { class: "oc-badge oc-channel", text: conv.channel || "" }),
    conv.priority && conv.priority !== "normal"
      ? el("span", { class: `oc-badge oc-priority oc-priority-${conv.priority}`, text: String(conv.priority) })
      : null,
    ...labels.map((l) => el("span", { class: "oc-badge oc-label", text: l })),
  );
  const unread = Number(conv.unread) || 0;
  return [
    el(
      "span",
      { class: "oc-conv-top" },
      el("span", { class: "oc-conv-name", text: contactLabel(conv) }),
      unread ? el("span", { class: "oc-unread", text: String(unread), title: `${unread} unread` }) : null,
      el("span", { class: "oc-conv-time", text: relativeTime(conv.updated_at), title: clockTime(conv.updated_at) }),
    ),
    conv.ticket && conv.ticket.subject ? el("span", { class: "oc-conv-subject", text: conv.ticket.subject }) : null,
    el("span", { class: "oc-conv-snippet", text: snippet }),
    el(
      "span",
      { class: "oc-conv-bottom" },
      badges,
      conv.assignee ? el("span", { class: "oc-conv-assignee", text: conv.assignee.name || "" }) : null,
    ),
  ].filter(Boolean);
}

function render(conversations) {
  state.rows = conversations.filter((c) => c && c.id !== undefined && c.id !== null);
  const focusedId = document.activeElement && document.activeElement.classList.contains("oc-conv")
    ? document.activeElement.dataset.id
    : null;
  const existing = new Map($$(".oc-conv", ui.list).map((b) => [b.dataset.id, b]));
  const items = [];
  for (const conv of state.rows) {
    const id = String(conv.id);
    let button = existing.get(id);
    if (!button) {
      button = el("button", { type: "button", class: "oc-conv", "data-id": id });
      button.addEventListener("click", () => select(id));
    }
    const signature = JSON.stringify([conv, relativeTime(conv.updated_at)]);
    if (state.signatures.get(id) !== signature) {
      button.replaceChildren(...buildRow(conv));
      button.classList.toggle("oc-has-unread", Number(conv.unread) > 0);
      state.signatures.set(id, signature);
    }
    items.push(button);
    existing.delete(id);
  }
  for (const [id] of existing) state.signatures.delete(id);
  ui.list.replaceChildren(...items.map((b) => b.closest("li") || el("li", { class: "oc-conv-item" }, b)));
  markSelected();
  if (focusedId) {
    const again = ui.list.querySelector(`.oc-conv[data-id="${CSS.escape(focusedId)}"]`);
    if (again) again.focus({ preventScroll: true });
  }
  ui.empty.hidden = items.length > 0;
}

function markSelected() {
  for (const button of $$(".oc-conv", ui.list)) {
    const on = button.dataset.id === state.selectedId;
    button.classList.toggle("oc-selected", on);
    if (on) button.setAttribute("aria-current", "true");
    else button.removeAttribute("aria-current");
  }
}

export function select(id) {
  state.selectedId = id === null ? null : String(id);
  markSelected();
  fire("conversation:select", state.selectedId);
}

/** j/k: the next or previous conversation of the list. */
export function step(delta) {
  if (!state.rows.length) return;
  const ids = state.rows.map((c) => String(c.id));
  const at = ids.indexOf(state.selectedId);
  const next = at === -1 ? (delta > 0 ? 0 : ids.length - 1) : Math.min(ids.length - 1, Math.max(0, at + delta));
  select(ids[next]);
  const button = ui.list.querySelector(`.oc-conv[data-id="${CSS.escape(ids[next])}"]`);
  if (button) button.scrollIntoView({ block: "nearest" });
}

/** Fill the assignee and team filters from the directory. */
export function setDirectory(directory) {
  const fill = (select, items, none) => {
    const chosen = select.value;
    const options = [el("option", { value: "", text: select.dataset.all })];
    if (none) options.push(el("option", { value: "0", text: none }));
    for (const i of items) options.push(el("option", { value: String(i.id), text: i.name }));
    select.replaceChildren(...options);
    select.value = chosen;
  };
  fill(ui.filters.assignee_id, directory.agents || [], "Nobody");
  fill(ui.filters.team_id, directory.teams || [], null);
}

export function init() {
  for (const tab of ui.tabs) {
    tab.addEventListener("click", () => selectView(tab.dataset.view));
    tab.addEventListener("keydown", (event) => {
      if (event.key !== "ArrowRight" && event.key !== "ArrowLeft") return;
      const i = ui.tabs.indexOf(tab);
      const next = ui.tabs[(i + (event.key === "ArrowRight" ? 1 : ui.tabs.length - 1)) % ui.tabs.length];
      next.focus();
      selectView(next.dataset.view);
    });
  }
  let timer = 0;
  for (const input of Object.values(ui.filters)) {
    const changed = () => {
      clearTimeout(timer);
      timer = setTimeout(() => fire("list:changed"), input.tagName === "INPUT" ? 300 : 0);
    };
    input.addEventListener(input.tagName === "INPUT" ? "input" : "change", changed);
  }
  selectView(state.view);
}
