/*
 * Admin: the handoff rules kept in the database, tried in order before the settings'
 * and the built-in ones. Each rule has a trigger (keywords, a contact attribute, the
 * channel, N unsure answers, "not helpful", the customer asking for a person) and what a
 * match does: the reason recorded on the ticket, a priority, a team. One form adds or
 * edits; a check box in the row turns a rule on or off; a button deletes it.
 */
import { api, report } from "./api.js";
import { $, $$, el } from "./dom.js";
import {
  badge,
  confirmThen,
  fillSelect,
  intValue,
  openForm,
  people,
  rowButton,
  splitList,
  submitting,
  wireForm,
} from "./admin_kit.js";

const TRIGGERS = {
  keyword: "Keywords",
  customer_request: "Customer asks for a person",
  unsure: "Unsure answers in a row",
  not_helpful: "Answer marked not helpful",
  attribute: "Contact attribute",
  channel: "Channel",
};
const PRIORITIES = ["low", "normal", "high", "urgent"];

const ui = {
  rows: $(".oc-rule-rows"),
  empty: $(".oc-rule-empty"),
  add: $(".oc-rule-new"),
  form: $(".oc-rule-form"),
  name: $(".oc-rule-in-name"),
  trigger: $(".oc-rule-in-trigger"),
  keywords: $(".oc-rule-in-keywords"),
  attribute: $(".oc-rule-in-attribute"),
  equals: $(".oc-rule-in-equals"),
  channels: $(".oc-rule-in-channels"),
  turns: $(".oc-rule-in-turns"),
  skill: $(".oc-rule-in-skill"),
  reason: $(".oc-rule-in-reason"),
  priority: $(".oc-rule-in-priority"),
  team: $(".oc-rule-in-team"),
  position: $(".oc-rule-in-position"),
  enabled: $(".oc-rule-in-enabled"),
  save: $(".oc-rule-save"),
  cancel: $(".oc-rule-cancel"),
};

const view = { teams: [], editing: null }; // editing: the rule's id, or null

export async function load() {
  const [{ teams }, data] = await Promise.all([people(), api("GET", "/admin/rules")]);
  view.teams = teams;
  fillSelect(ui.team, [["", "No team"], ...teams.map((t) => [t.id, t.name])]);
  const rules = Array.isArray(data.rules) ? data.rules : [];
  ui.rows.replaceChildren(...rules.map(item));
  ui.empty.hidden = rules.length > 0;
}

/** What the rule looks for, in words. */
function summary(rule) {
  const c = rule.condition || {};
  const list = (values) => (values || []).join(", ");
  const parts = {
    keyword: () => `says any of: ${list(c.keywords)}`,
    customer_request: () => (c.keywords ? `asks for a person, or says: ${list(c.keywords)}` : "asks for a person"),
    unsure: () => `gets ${c.turns || 1} unsure ${(c.turns || 1) === 1 ? "answer" : "answers"} in a row`,
    not_helpful: () => "marks an answer not helpful",
    attribute: () =>
      "equals" in c ? `has ${c.attribute} = ${JSON.stringify(c.equals)}` : `has a true ${c.attribute}`,
    channel: () => `writes on ${list(c.channels)}`,
  };
  const text = (parts[rule.trigger] || (() => rule.trigger))();
  return c.skill ? `${text}; assigned to someone with skill ${c.skill}` : text;
}

function item(rule) {
  const team = view.teams.find((t) => t.id === rule.team_id);
  const toggle = el("input", {
    type: "checkbox",
    class: "oc-rule-enabled",
    checked: rule.enabled,
    "aria-label": `Rule ${rule.name} enabled`,
  });
  toggle.addEventListener("change", () => setEnabled(rule, toggle));
  return el(
    "li",
    { class: `oc-admin-item oc-rule-row${rule.enabled ? "" : " oc-off"}`, "data-id": String(rule.id) },
    el(
      "div",
      { class: "oc-admin-item-main" },
      el("h3", { class: "oc-rule-name", text: rule.name }),
      badge(TRIGGERS[rule.trigger] || rule.trigger),
      el("p", { class: "oc-rule-summary", text: `When the customer ${summary(rule)}` }),
      el(
        "p",
        { class: "oc-rule-outcome oc-muted" },
        el("span", { text: `hand over · reason ${rule.reason}` }),
        el("span", { text: rule.priority ? ` · priority ${rule.priority}` : "" }),
        el("span", { text: team ? ` · team ${team.name}` : "" }),
        el("span", { text: ` · position ${rule.position}` }),
      ),
    ),
    el(
      "div",
      { class: "oc-row-actions" },
      el("label", { class: "oc-check" }, toggle, el("span", { text: "Enabled" })),
      rowButton("Edit", `Edit rule ${rule.name}`, () => edit(rule)),
      rowButton("Delete", `Delete rule ${rule.name}`, () => remove(rule), true),
    ),
  );
}

/** Show only the condition fields the chosen trigger reads. */
function showConditionFields() {
  const trigger = ui.trigger.value;
  for (const field of $$(".oc-rule-cond", ui.form)) {
    field.hidden = !field.dataset.triggers.split(" ").includes(trigger);
  }
}

function equalsText(condition) {
  if (!("equals" in condition)) return "";
  const value = condition.equals;
  if (typeof value !== "string") return JSON.stringify(value);
  try {
    JSON.parse(value);
    return JSON.stringify(value); // "true" the string, not the boolean: keep the quotes
  } catch (_) {
    return value;
  }
}

function fill(rule) {
  const r = rule || { trigger: "keyword", condition: {}, enabled: true, position: 0 };
  const c = r.condition || {};
  view.editing = rule ? rule.id : null;
  ui.name.value = r.name || "";
  ui.trigger.value = r.trigger;
  ui.keywords.value = (c.keywords || []).join(", ");
  ui.attribute.value = c.attribute || "";
  ui.equals.value = equalsText(c);
  for (const box of $$("input", ui.channels)) box.checked = (c.channels || []).includes(box.value);
  ui.turns.value = c.turns ?? "";
  ui.skill.value = c.skill || "";
  ui.reason.value = r.reason || "";
  ui.priority.value = r.priority || "";
  ui.team.value = r.team_id ? String(r.team_id) : "";
  ui.position.value = r.position ?? 0;
  ui.enabled.checked = r.enabled !== false;
  ui.save.textContent = rule ? "Save" : "Add rule";
  showConditionFields();
}

function edit(rule) {
  fill(rule);
  openForm(ui.form, `Edit rule ${rule.name}`);
}

/** "true" → true, "42" → 42, "gold" → "gold"; empty: any true value. */
function parseEquals(text) {
  try {
    const value = JSON.parse(text);
    return value !== null && typeof value === "object" ? text : value;
  } catch (_) {
    return text;
  }
}

function condition(trigger) {
  const c = {};
  const keywords = splitList(ui.keywords.value);
  if (trigger === "keyword" || (trigger === "customer_request" && keywords.length)) c.keywords = keywords;
  if (trigger === "attribute") {
    c.attribute = ui.attribute.value.trim();
    if (ui.equals.value.trim()) c.equals = parseEquals(ui.equals.value.trim());
  }
  if (trigger === "channel") c.channels = $$("input:checked", ui.channels).map((box) => box.value);
  if (trigger === "unsure" && intValue(ui.turns) !== null) c.turns = intValue(ui.turns);
  if (ui.skill.value.trim()) c.skill = ui.skill.value.trim();
  return c;
}

async function save() {
  const trigger = ui.trigger.value;
  const body = {
    name: ui.name.value.trim(),
    trigger,
    condition: condition(trigger),
    reason: ui.reason.value.trim() || null,
    priority: ui.priority.value || null,
    team_id: ui.team.value ? Number(ui.team.value) : null,
    position: intValue(ui.position) ?? 0,
    enabled: ui.enabled.checked,
  };
  const editing = view.editing;
  const done = await submitting(ui.form, async () => {
    if (!body.name) throw new Error("Give the rule a name.");
    if (editing === null) await api("POST", "/admin/rules", body);
    else await api("PATCH", `/admin/rules/${editing}`, body);
  });
  if (!done) return;
  ui.form.hidden = true;
  await load().catch(report);
}

async function setEnabled(rule, toggle) {
  toggle.disabled = true;
  try {
    await api("PATCH", `/admin/rules/${rule.id}`, { enabled: toggle.checked });
    await load();
  } catch (err) {
    toggle.checked = !toggle.checked;
    toggle.disabled = false;
    report(err);
  }
}

function remove(rule) {
  return confirmThen(`Delete rule ${rule.name}?`, async () => {
    await api("DELETE", `/admin/rules/${rule.id}`);
    if (view.editing === rule.id) ui.form.hidden = true;
    await load();
  });
}

export function init() {
  fillSelect(ui.trigger, Object.entries(TRIGGERS));
  fillSelect(ui.priority, [["", "Default priority"], ...PRIORITIES.map((p) => [p, p])]);
  ui.trigger.addEventListener("change", showConditionFields);
  wireForm(ui.form, { add: ui.add, addTitle: "Add a rule", cancel: ui.cancel, reset: () => fill(null), save });
}
