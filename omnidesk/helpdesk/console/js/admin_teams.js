/*
 * Admin: teams, the queues conversations are handed to. A list with each team's way of
 * assigning and its members; one form creates a team or renames and re-staffs one;
 * a row button deletes it.
 */
import { api, report } from "./api.js";
import { $, el, fire } from "./dom.js";
import {
  badge,
  checkedIds,
  confirmThen,
  fillChecks,
  openForm,
  people,
  rowButton,
  submitting,
  wireForm,
} from "./admin_kit.js";

const ASSIGNMENT = { round_robin: "round robin", least_busy: "least busy", manual: "manual" };

const ui = {
  rows: $(".oc-team-rows"),
  empty: $(".oc-team-empty"),
  add: $(".oc-team-new"),
  form: $(".oc-team-form"),
  name: $(".oc-team-in-name"),
  description: $(".oc-team-in-description"),
  assignment: $(".oc-team-in-assignment"),
  calendar: $(".oc-team-in-calendar"),
  members: $(".oc-team-in-members"),
  save: $(".oc-team-save"),
  cancel: $(".oc-team-cancel"),
};

const view = { agents: [], calendars: [], editing: null }; // editing: the team's id, or null

export async function load() {
  const [{ agents, teams }, calendars] = await Promise.all([people(), api("GET", "/admin/calendars")]);
  view.agents = agents;
  view.calendars = Array.isArray(calendars.calendars) ? calendars.calendars : [];
  calendarOptions(ui.calendar.value);
  const names = new Map(agents.map((a) => [a.id, a.name]));
  ui.rows.replaceChildren(...teams.map((team) => item(team, names)));
  ui.empty.hidden = teams.length > 0;
}

function item(team, names) {
  const members = (team.members || []).map((id) => names.get(id) || `#${id}`);
  return el(
    "li",
    { class: "oc-admin-item oc-team-row", "data-id": String(team.id) },
    el(
      "div",
      { class: "oc-admin-item-main" },
      el("h3", { class: "oc-team-name", text: team.name }),
      badge(ASSIGNMENT[team.assignment] || team.assignment || ""),
      team.calendar_id ? badge(calendarName(team.calendar_id)) : null,
      team.description ? el("p", { class: "oc-muted", text: team.description }) : null,
      el("p", { class: "oc-team-members", text: members.length ? `Members: ${members.join(", ")}` : "No members" }),
    ),
    el(
      "div",
      { class: "oc-row-actions" },
      rowButton("Edit", `Edit team ${team.name}`, () => edit(team)),
      rowButton("Delete", `Delete team ${team.name}`, () => remove(team), true),
    ),
  );
}

/** The calendar choices, from the latest list (a form opened before it arrived gets them too). */
function calendarOptions(chosen) {
  ui.calendar.replaceChildren(
    el("option", { value: "", text: "Default hours" }),
    ...view.calendars.map((c) => el("option", { value: String(c.id), text: c.name })),
  );
  ui.calendar.value = chosen;
}

function calendarName(id) {
  const found = view.calendars.find((c) => c.id === id);
  return found ? `hours: ${found.name}` : `hours: #${id}`;
}

function fill(team) {
  const t = team || {};
  view.editing = team ? team.id : null;
  ui.name.value = t.name || "";
  ui.description.value = t.description || "";
  ui.assignment.value = t.assignment || "round_robin";
  calendarOptions(t.calendar_id ? String(t.calendar_id) : "");
  fillChecks(ui.members, view.agents.filter((a) => a.active || (t.members || []).includes(a.id)), t.members);
  ui.save.textContent = team ? "Save" : "Create team";
}

function edit(team) {
  fill(team);
  openForm(ui.form, `Edit team ${team.name}`);
}

async function save() {
  const body = {
    name: ui.name.value.trim(),
    description: ui.description.value.trim(),
    assignment: ui.assignment.value,
    calendar_id: ui.calendar.value ? Number(ui.calendar.value) : null,
    members: checkedIds(ui.members),
  };
  const editing = view.editing;
  const done = await submitting(ui.form, async () => {
    if (!body.name) throw new Error("Give the team a name.");
    if (editing === null) await api("POST", "/teams", body);
    else await api("PATCH", `/teams/${editing}`, body);
  });
  if (!done) return;
  ui.form.hidden = true;
  fire("directory:changed");
  await load().catch(report);
}

function remove(team) {
  return confirmThen(`Delete team ${team.name}? Its members keep their accounts.`, async () => {
    await api("DELETE", `/teams/${team.id}`);
    if (view.editing === team.id) ui.form.hidden = true;
    fire("directory:changed");
    await load();
  });
}

export function init() {
  wireForm(ui.form, { add: ui.add, addTitle: "Create a team", cancel: ui.cancel, reset: () => fill(null), save });
}
