/*
 * Search over messages (notes included) and contacts from the sidebar. Matches are
 * marked with <mark> elements built from the server's offsets; the text itself always
 * goes in as text.
 */
import { api, report } from "./api.js";
import { $, el, fire, relativeTime } from "./dom.js";

const DELAY_MS = 250;
const ui = { input: $(".oc-search"), results: $(".oc-search-results"), list: $(".oc-list"), empty: $(".oc-empty") };
let timer = 0;
let seq = 0;

/** ``text`` with the [start, end) spans in ``marks`` wrapped in <mark>. */
function marked(text, marks) {
  const node = el("span", { class: "oc-snippet" });
  let at = 0;
  for (const [start, end] of Array.isArray(marks) ? marks : []) {
    if (typeof start !== "number" || typeof end !== "number" || start < at || end > text.length) continue;
    node.append(text.slice(at, start), el("mark", { text: text.slice(start, end) }));
    at = end;
  }
  node.append(text.slice(at));
  return node;
}

function messageRow(hit) {
  const m = hit.message || {};
  const snippet = hit.snippet || { text: "" };
  const button = el(
    "button",
    { type: "button", class: "oc-search-hit", "data-conversation": String(hit.conversation_id) },
    el(
      "span",
      { class: "oc-conv-top" },
      el("span", { class: "oc-conv-name", text: `#${hit.conversation_id} · ${m.private ? "note" : m.author || ""}` }),
      el("span", { class: "oc-conv-time", text: relativeTime(m.created_at) }),
    ),
    marked(String(snippet.text || ""), snippet.highlights),
  );
  button.addEventListener("click", () => fire("conversation:open", String(hit.conversation_id)));
  return el("li", {}, button);
}

function contactRow(contact) {
  const label = contact.name || contact.email || `Contact #${contact.id}`;
  const button = el(
    "button",
    { type: "button", class: "oc-search-hit oc-search-contact", "data-contact": String(contact.id) },
    el("span", { class: "oc-conv-name", text: label }),
    contact.email && contact.name ? el("span", { class: "oc-muted", text: contact.email }) : null,
  );
  button.addEventListener("click", async () => {
    try {
      const data = await api("GET", `/contacts/${contact.id}`);
      const [latest] = (data.contact && data.contact.conversations) || [];
      if (latest) fire("conversation:open", String(latest.id));
    } catch (err) {
      report(err);
    }
  });
  return el("li", {}, button);
}

async function run() {
  const q = ui.input.value.trim();
  const mine = ++seq;
  const searching = q.length > 0;
  ui.results.hidden = !searching;
  ui.list.hidden = searching;
  if (searching) ui.empty.hidden = true;
  if (!searching) {
    fire("list:changed");
    return;
  }
  const data = await api("GET", `/search?${new URLSearchParams({ q, limit: "20" })}`);
  if (mine !== seq) return; // a newer keystroke won
  const contacts = Array.isArray(data.contacts) ? data.contacts : [];
  const messages = Array.isArray(data.messages) ? data.messages : [];
  const parts = [];
  if (contacts.length) parts.push(el("li", { class: "oc-search-head", text: "Contacts" }), ...contacts.map(contactRow));
  if (messages.length) parts.push(el("li", { class: "oc-search-head", text: "Messages" }), ...messages.map(messageRow));
  if (!parts.length) parts.push(el("li", { class: "oc-muted oc-search-head", text: "Nothing found." }));
  ui.results.replaceChildren(...parts);
}

export function init() {
  ui.input.addEventListener("input", () => {
    clearTimeout(timer);
    timer = setTimeout(() => run().catch(report), DELAY_MS);
  });
  ui.input.addEventListener("keydown", (event) => {
    if (event.key === "Escape") {
      ui.input.value = "";
      run().catch(report);
      ui.input.blur();
    }
  });
}

/** "/" outside a field: jump to the search box. */
export function focus() {
  ui.input.focus();
  ui.input.select();
}
