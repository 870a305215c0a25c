/*
 * Admin: the audit log, newest first: who did what to which record, when and from
 * where. Filters (person, kind of action, dates) narrow it; "Older" pages back; "Export
 * CSV" saves every matching entry. Read-only, like the log itself.
 */
import { api, download, report } from "./api.js";
import { $, el, parseDate } from "./dom.js";
import { fillSelect } from "./admin_kit.js";

const KINDS = [
  ["", "All actions"],
  ["conversation.", "Conversations"],
  ["contact.", "Contacts"],
  ["agent.", "Agents"],
  ["team.", "Teams"],
  ["session.", "Sign-ins"],
  ["token.", "API tokens"],
  ["rule.", "Rules"],
  ["sla.", "SLA"],
  ["calendar.", "Calendars"],
  ["canned.", "Canned replies"],
  ["webhook.", "Webhooks"],
];

const ui = {
  form: $(".oc-audit-filters"),
  actor: $(".oc-audit-actor"),
  kind: $(".oc-audit-kind"),
  since: $(".oc-audit-since"),
  until: $(".oc-audit-until"),
  rows: $(".oc-audit-rows"),
  more: $(".oc-audit-more"),
  export: $(".oc-audit-export"),
  status: $(".oc-audit-status"),
};

const view = { next: null };

export function init() {
  fillSelect(ui.kind, KINDS, "");
  ui.form.addEventListener("submit", (event) => {
    event.preventDefault();
    load().catch(report);
  });
  ui.more.addEventListener("click", () => page(view.next).catch(report));
  ui.export.addEventListener("click", () => download(`/admin/audit.csv?${filters()}`, "audit-log.csv").catch(report));
}

export async function load() {
  const chosen = ui.actor.value;
  const agents = await api("GET", "/agents");
  const people = (agents.agents || []).map((a) => [a.id, `${a.name} (${a.email})`]);
  fillSelect(ui.actor, [["", "Everyone"], ...people], chosen);
  ui.rows.replaceChildren();
  await page(null);
}

/** The query string of the chosen filters; dates are whole days in local time. */
function filters() {
  const query = new URLSearchParams();
  if (ui.actor.value) query.set("actor_id", ui.actor.value);
  if (ui.kind.value) query.set("action", ui.kind.value);
  if (ui.since.value) query.set("since", new Date(`${ui.since.value}T00:00:00`).toISOString());
  if (ui.until.value) {
    const end = new Date(`${ui.until.value}T00:00:00`);
    end.setDate(end.getDate() + 1);
    query.set("until", end.toISOString());
  }
  return query.toString();
}

async function page(beforeId) {
  const query = filters() + (beforeId ? `&before_id=${beforeId}` : "");
  const data = await api("GET", `/admin/audit?${query}`);
  const entries = data.entries || [];
  ui.rows.append(...entries.map(row));
  view.next = data.next_before_id || null;
  ui.more.hidden = !view.next;
  ui.status.textContent = ui.rows.children.length ? "" : "Nothing recorded for these filters.";
}

function row(entry) {
  const at = parseDate(entry.at);
  const details = Object.entries(entry.data || {})
    .map(([key, value]) => `${key}: ${Array.isArray(value) ? value.join(", ") : value}`)
    .join("; ");
  return el(
    "tr",
    { class: "oc-audit-row", "data-action": entry.action },
    el("td", {}, el("time", { datetime: entry.at, text: at ? at.toLocaleString() : entry.at })),
    el("td", { text: entry.actor_name, title: entry.actor_role }),
    el("td", {}, el("code", { text: entry.action })),
    el("td", { text: entry.target || "" }),
    el("td", { class: "oc-audit-details", text: details }),
    el("td", { text: entry.ip || "" }),
  );
}
