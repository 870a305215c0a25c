/*
 * What an agent does to the selected conversation: take it, assign it to someone or a
 * team, change its state (snoozed until a time), priority and labels, resolve it. And
 * the agent's own availability: only an online agent is given new conversations.
 */
import { api, auth, report } from "./api.js";
import { $, el, fire, on } from "./dom.js";
import * as conversation from "./conversation.js";

const ui = {
  assign: $(".oc-assign"),
  assignTo: $(".oc-assign-to"),
  state: $(".oc-state-select"),
  snooze: $(".oc-snooze-until"),
  priority: $(".oc-priority-select"),
  labels: $(".oc-labels-input"),
  resolve: $(".oc-resolve"),
  availability: $(".oc-availability"),
};

let busy = false;
let directory = { agents: [], teams: [] };

export function isMine(conv) {
  if (!conv || !conv.assignee || !auth.agent) return false;
  return conv.assignee.id === auth.agent.id;
}

async function act(method, action, body) {
  const { id } = conversation.current();
  if (id === null || busy) return;
  busy = true;
  render(conversation.current().conversation);
  try {
    const data = await api(method, `/conversations/${encodeURIComponent(id)}/${action}`, body);
    if (data.conversation) conversation.renderHeader(data.conversation);
    fire("conversation:changed", id);
  } catch (err) {
    report(err);
  } finally {
    busy = false;
    render(conversation.current().conversation);
  }
}

export function assignToMe() {
  return act("POST", "assign", { agent_id: auth.agent.id });
}

export function resolve() {
  return act("POST", "state", { state: "resolved" });
}

function render(conv) {
  if (!conv) return;
  const closed = conv.state === "closed";
  const mine = isMine(conv) && conv.state === "assigned";
  ui.assign.disabled = busy || mine || closed;
  ui.assign.textContent = mine ? "Yours" : "Assign to me";
  ui.resolve.disabled = busy || conv.state === "resolved" || closed;
  for (const input of [ui.assignTo, ui.state, ui.priority, ui.labels, ui.snooze]) input.disabled = busy || closed;
  ui.priority.value = conv.priority || "normal";
  const shown = { queued: "open", assigned: "open", bot: "" }[conv.state];
  ui.state.value = shown === undefined ? conv.state : shown;
  ui.snooze.hidden = ui.state.value !== "snoozed";
  if (document.activeElement !== ui.labels) ui.labels.value = (conv.labels || []).join(", ");
  ui.assignTo.value = conv.assignee && conv.assignee.id ? `agent:${conv.assignee.id}` : "";
}

function showAvailability() {
  const mine = auth.agent && auth.agent.availability;
  ui.availability.value = mine || "offline";
  ui.availability.hidden = !auth.agent;
}

async function onAvailability() {
  const wanted = ui.availability.value;
  ui.availability.disabled = true;
  try {
    const data = await api("PATCH", "/me", { availability: wanted });
    if (data.agent && auth.agent) {
      auth.agent.availability = data.agent.availability;
      // The "Assign to" list names each agent's availability: mine changed.
      const agents = (directory.agents || []).map((a) => (a.id === auth.agent.id ? { ...a, availability: data.agent.availability } : a));
      setDirectory({ ...directory, agents });
    }
  } catch (err) {
    report(err);
  } finally {
    ui.availability.disabled = false;
    showAvailability(); // what the server holds, whatever happened
  }
}

/** Called on sign-in with the directory of agents and teams. */
export function setDirectory(value) {
  directory = value;
  showAvailability();
  const options = [el("option", { value: "", text: "Assign to…" }), el("option", { value: "queue", text: "Nobody (back to the queue)" })];
  for (const a of directory.agents || []) options.push(el("option", { value: `agent:${a.id}`, text: `${a.name} (${a.availability || "offline"})` }));
  for (const t of directory.teams || []) options.push(el("option", { value: `team:${t.id}`, text: `Team ${t.name}` }));
  ui.assignTo.replaceChildren(...options);
  render(conversation.current().conversation);
}

function onAssignTo() {
  const [kind, raw] = ui.assignTo.value.split(":");
  if (kind === "queue") act("POST", "assign", { agent_id: null });
  else if (kind === "agent") act("POST", "assign", { agent_id: Number(raw) });
  else if (kind === "team") act("POST", "assign", { agent_id: null, team_id: Number(raw) });
}

function onState() {
  const value = ui.state.value;
  ui.snooze.hidden = value !== "snoozed";
  if (!value) return;
  if (value === "snoozed") {
    if (!ui.snooze.value) {
      const inAnHour = new Date(Date.now() + 3600_000 - new Date().getTimezoneOffset() * 60_000);
      ui.snooze.value = inAnHour.toISOString().slice(0, 16);
    }
    ui.snooze.focus();
    return snooze();
  }
  return act("POST", "state", { state: value });
}

function snooze() {
  const local = new Date(ui.snooze.value); // datetime-local: the agent's own time zone
  if (Number.isNaN(local.getTime())) return undefined;
  return act("POST", "state", { state: "snoozed", snoozed_until: local.toISOString() });
}

function onLabels() {
  const labels = ui.labels.value.split(",").map((l) => l.trim()).filter(Boolean);
  return act("PUT", "labels", { labels });
}

export function init() {
  ui.assign.addEventListener("click", assignToMe);
  ui.resolve.addEventListener("click", resolve);
  ui.assignTo.addEventListener("change", onAssignTo);
  ui.state.addEventListener("change", onState);
  ui.snooze.addEventListener("change", snooze);
  ui.priority.addEventListener("change", () => act("POST", "priority", { priority: ui.priority.value }));
  ui.labels.addEventListener("change", onLabels);
  ui.availability.addEventListener("change", onAvailability);
  on("conversation:rendered", render);
}
