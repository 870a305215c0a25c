/*
 * Admin: the accounts that sign in to the console. A table of every agent (role, state,
 * availability, teams, skills, capacity); one form adds an agent or edits one (a new
 * password there resets theirs and ends their sessions); a row button disables or
 * enables an account. The server's refusals (email taken, last admin...) show in place.
 */
import { api, auth, report } from "./api.js";
import { $, el, fire } from "./dom.js";
import {
  badge,
  checkedIds,
  confirmThen,
  fillChecks,
  intValue,
  openForm,
  people,
  rowButton,
  splitList,
  submitting,
  wireForm,
} from "./admin_kit.js";

const ui = {
  rows: $(".oc-agent-rows"),
  add: $(".oc-agent-new"),
  form: $(".oc-agent-form"),
  name: $(".oc-agent-in-name"),
  email: $(".oc-agent-in-email"),
  role: $(".oc-agent-in-role"),
  password: $(".oc-agent-in-password"),
  passwordHint: $(".oc-agent-password-hint"),
  skills: $(".oc-agent-in-skills"),
  capacity: $(".oc-agent-in-capacity"),
  teams: $(".oc-agent-in-teams"),
  save: $(".oc-agent-save"),
  cancel: $(".oc-agent-cancel"),
};

const view = { agents: [], teams: [], editing: null }; // editing: the agent's id, or null

export async function load() {
  const { agents, teams } = await people();
  view.agents = agents;
  view.teams = teams;
  ui.rows.replaceChildren(...agents.map(row));
  if (!ui.form.hidden) {
    const chosen = checkedIds(ui.teams);
    fillChecks(ui.teams, teams, chosen);
  }
}

function row(agent) {
  const state = agent.active
    ? badge(`active · ${agent.availability || "offline"}`, `oc-availability-${agent.availability || "offline"}`)
    : badge("disabled", "oc-disabled");
  const teams = (agent.teams || []).map((t) => t.name).join(", ");
  const toggle = agent.active
    ? rowButton("Disable", `Disable ${agent.name}`, () => setActive(agent, false), true)
    : rowButton("Enable", `Enable ${agent.name}`, () => setActive(agent, true));
  return el(
    "tr",
    { class: "oc-agent-row", "data-id": String(agent.id), "data-email": agent.email },
    el("td", { class: "oc-agent-name-cell", text: agent.name }),
    el("td", { class: "oc-agent-email", text: agent.email }),
    el("td", {}, badge(agent.role, `oc-role-${agent.role}`)),
    el("td", { class: "oc-agent-state" }, state),
    el("td", { class: "oc-agent-teams", text: teams || "—" }),
    el("td", { class: "oc-agent-skills", text: (agent.skills || []).join(", ") || "—" }),
    el("td", { class: "oc-agent-capacity", text: String(agent.capacity ?? "") }),
    el(
      "td",
      { class: "oc-row-actions" },
      rowButton("Edit", `Edit ${agent.name}`, () => edit(agent)),
      toggle,
    ),
  );
}

function fill(agent) {
  const a = agent || {};
  view.editing = agent ? agent.id : null;
  ui.name.value = a.name || "";
  ui.email.value = a.email || "";
  ui.role.value = a.role || "agent";
  ui.password.value = "";
  ui.password.required = !agent;
  ui.passwordHint.textContent = agent
    ? "Leave empty to keep it; a new one ends their sessions."
    : "At least 8 characters; tell them to change it.";
  ui.skills.value = (a.skills || []).join(", ");
  ui.capacity.value = a.capacity ?? "";
  fillChecks(ui.teams, view.teams, (a.teams || []).map((t) => t.id));
  ui.save.textContent = agent ? "Save" : "Add agent";
}

function edit(agent) {
  fill(agent);
  openForm(ui.form, `Edit ${agent.name}`);
}

function fields() {
  const body = {
    name: ui.name.value.trim(),
    email: ui.email.value.trim(),
    role: ui.role.value,
    skills: splitList(ui.skills.value),
    teams: checkedIds(ui.teams),
  };
  const capacity = intValue(ui.capacity);
  if (capacity !== null) body.capacity = capacity;
  if (ui.password.value) body.password = ui.password.value;
  return body;
}

async function save() {
  const body = fields();
  const editing = view.editing;
  const done = await submitting(ui.form, async () => {
    if (!body.email) throw new Error("Give the agent an email address.");
    if (Number.isNaN(body.capacity)) throw new Error("Capacity must be a whole number.");
    // A password set here ends every session of the account, this one too.
    if (body.password && auth.agent && editing === auth.agent.id) {
      throw new Error("Change your own password under My account.");
    }
    if (editing === null) await api("POST", "/agents", body);
    else await api("PATCH", `/agents/${editing}`, body);
  });
  if (!done) return;
  ui.form.hidden = true;
  ui.password.value = "";
  fire("directory:changed");
  await load().catch(report);
}

function setActive(agent, active) {
  const own = auth.agent && agent.id === auth.agent.id ? " This is your own account: you will be signed out." : "";
  const question = active ? null : `Disable ${agent.name}? Their sessions and API tokens stop working.${own}`;
  return confirmThen(question, async () => {
    await api("PATCH", `/agents/${agent.id}`, { active });
    fire("directory:changed");
    await load();
  });
}

export function init() {
  wireForm(ui.form, { add: ui.add, addTitle: "Add an agent", cancel: ui.cancel, reset: () => fill(null), save });
}
