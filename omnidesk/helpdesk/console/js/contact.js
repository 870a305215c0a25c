/*
 * The contact panel beside a conversation: names, emails, channels, attributes, tags,
 * earlier conversations, the whole timeline, and merging with another contact (or
 * undoing an earlier merge).
 */
import { api, report } from "./api.js";
import { init as initRights } from "./contact_rights.js";
import { $, clockTime, el, fire, on, relativeTime } from "./dom.js";

const ui = {
  panel: $(".oc-contact-panel"),
  facts: $(".oc-contact-facts"),
  earlier: $(".oc-earlier"),
  merges: $(".oc-merges"),
  mergeForm: $(".oc-merge-form"),
  mergeId: $(".oc-merge-id"),
  timeline: $(".oc-timeline"),
};

let contact = null;

function fact(label, value) {
  if (value === null || value === undefined || value === "" || (Array.isArray(value) && !value.length)) return null;
  return el("div", { class: "oc-fact" }, el("dt", { text: label }), el("dd", { text: Array.isArray(value) ? value.join(", ") : String(value) }));
}

function render(panel) {
  contact = panel;
  ui.panel.hidden = !panel;
  if (!panel) return;
  const attributes = Object.entries(panel.attributes || {}).filter(([k]) => k !== "tags");
  ui.facts.replaceChildren(
    ...[
      fact("Contact", `#${panel.id}`),
      fact("Names", panel.names),
      fact("Emails", panel.emails),
      fact("Channels", (panel.identities || []).map((i) => `${i.channel}: ${i.display_name || i.external_id}`)),
      fact("Tags", panel.tags),
      ...attributes.map(([k, v]) => fact(k, typeof v === "object" ? JSON.stringify(v) : v)),
    ].filter(Boolean),
  );
  ui.earlier.replaceChildren(
    ...(panel.conversations || []).map((c) => {
      const button = el(
        "button",
        { type: "button", class: "oc-earlier-item", "data-id": String(c.id) },
        el("span", { text: `#${c.id} ${c.channel}` }),
        el("span", { class: `oc-badge oc-state-${c.state}`, text: c.state }),
        el("span", { class: "oc-muted", text: relativeTime(c.updated_at) }),
      );
      button.addEventListener("click", () => fire("conversation:open", String(c.id)));
      return el("li", {}, button);
    }),
  );
  ui.merges.replaceChildren(
    ...(panel.merges || []).map((m) => {
      const undo = el("button", { type: "button", class: "oc-unmerge oc-btn oc-btn-secondary", text: "Un-merge" });
      undo.addEventListener("click", () => unmerge(m));
      return el("li", { class: "oc-merge", "data-contact": String(m.contact_id) }, el("span", { text: `Merged #${m.contact_id} ${m.name || m.email || ""}`.trim() }), undo);
    }),
  );
  loadTimeline().catch(report);
}

async function loadTimeline() {
  if (!contact) return;
  const id = contact.id;
  const data = await api("GET", `/contacts/${id}/timeline?limit=200`);
  if (!contact || contact.id !== id) return;
  const events = (Array.isArray(data.events) ? data.events : []).slice().reverse();
  ui.timeline.replaceChildren(
    ...events.map((e) =>
      el(
        "li",
        { class: `oc-event oc-event-${e.kind}` },
        el("span", { class: "oc-event-kind", text: e.kind.replace(/_/g, " ") }),
        el("span", { class: "oc-muted", text: describe(e) }),
        el("time", { class: "oc-muted", datetime: e.created_at || null, text: clockTime(e.created_at) }),
      ),
    ),
  );
}

function describe(event) {
  const d = event.data || {};
  const parts = [];
  if (event.conversation_id) parts.push(`#${event.conversation_id}`);
  for (const key of ["channel", "reason", "agent", "before", "after", "by"]) {
    if (d[key] !== undefined && d[key] !== null && d[key] !== "") parts.push(`${key === "after" ? "→ " : ""}${d[key]}`);
  }
  if (Array.isArray(d.added) && d.added.length) parts.push(`+${d.added.join(", +")}`);
  if (Array.isArray(d.removed) && d.removed.length) parts.push(`−${d.removed.join(", −")}`);
  // A rating is what the timeline is read for: its score and the customer's words.
  if (event.kind === "csat" && typeof d.score === "number") parts.push(`rated ${d.score}/5`);
  if (event.kind === "csat" && d.comment) parts.push(`“${d.comment}”`);
  if (event.kind === "nps_answered" && typeof d.score === "number") parts.push(`NPS ${d.score}/10`);
  if (event.kind === "nps_answered" && d.comment) parts.push(`“${d.comment}”`);
  // An edit shows what the customer wrote before (gone once they delete the message).
  if (event.kind === "message_edited" && d.previous) parts.push(`was “${d.previous}”`);
  return parts.join(" ");
}

async function merge(event) {
  event.preventDefault();
  const other = Number(ui.mergeId.value);
  if (!contact || !Number.isInteger(other) || other <= 0) return;
  if (!window.confirm(`Merge contact #${other} into #${contact.id}? Every message is kept and it can be undone.`)) return;
  try {
    await api("POST", `/contacts/${contact.id}/merge`, { contact_id: other });
    ui.mergeId.value = "";
    fire("contact:changed", contact.id);
  } catch (err) {
    report(err);
  }
}

async function unmerge(m) {
  if (!contact) return;
  try {
    await api("POST", `/contacts/${contact.id}/unmerge`, { event_id: m.event_id });
    fire("contact:changed", contact.id);
  } catch (err) {
    report(err);
  }
}

export function init() {
  on("contact:loaded", render);
  ui.mergeForm.addEventListener("submit", merge);
  initRights(); // export and erase, for admins
}
