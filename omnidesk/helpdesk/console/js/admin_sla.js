/*
 * Admin: the SLA targets per priority (first response and resolution, in business
 * minutes of the chosen calendar). A priority nobody set shows the settings' targets;
 * saving writes the ones set here before and the ones changed now, so the others keep
 * following the settings.
 */
import { api, report } from "./api.js";
import { $, el, on } from "./dom.js";
import { badge, fillSelect, intValue, submitting } from "./admin_kit.js";

const ui = {
  form: $(".oc-sla-form"),
  rows: $(".oc-sla-rows"),
};

const view = { policies: [], calendars: [], inputs: new Map() }; // priority -> its inputs

export async function load() {
  const [sla, calendars] = await Promise.all([api("GET", "/admin/sla"), api("GET", "/admin/calendars")]);
  view.policies = Array.isArray(sla.policies) ? sla.policies : [];
  view.calendars = Array.isArray(calendars.calendars) ? calendars.calendars : [];
  render();
}

function minutesInput(priority, what, value) {
  return el("input", {
    type: "number",
    min: "1",
    step: "1",
    class: `oc-sla-in oc-sla-${what.replace(/ /g, "-")}`,
    "aria-label": `${priority}: ${what} (minutes)`,
    value: String(value ?? ""),
  });
}

function render() {
  view.inputs.clear();
  const pairs = [["", "Default hours (settings)"], ...view.calendars.map((c) => [c.id, c.name])];
  ui.rows.replaceChildren(
    ...view.policies.map((policy) => {
      const first = minutesInput(policy.priority, "first response", policy.first_response_minutes);
      const resolution = minutesInput(policy.priority, "resolution", policy.resolution_minutes);
      const calendar = el("select", { class: "oc-sla-calendar", "aria-label": `${policy.priority}: business hours` });
      fillSelect(calendar, pairs, policy.calendar_id ?? "");
      view.inputs.set(policy.priority, { first, resolution, calendar });
      const source = policy.source === "policy" ? badge("set here") : badge("from settings", "oc-muted");
      return el(
        "tr",
        { class: "oc-sla-row", "data-priority": policy.priority },
        el("th", { scope: "row", text: policy.priority }),
        el("td", {}, first),
        el("td", {}, resolution),
        el("td", {}, calendar),
        el("td", {}, source),
      );
    }),
  );
}

function changed(policy, value) {
  return (
    value.first_response_minutes !== policy.first_response_minutes ||
    value.resolution_minutes !== policy.resolution_minutes ||
    value.calendar_id !== (policy.calendar_id ?? null)
  );
}

async function save() {
  const policies = [];
  for (const policy of view.policies) {
    const inputs = view.inputs.get(policy.priority);
    const value = {
      priority: policy.priority,
      first_response_minutes: intValue(inputs.first),
      resolution_minutes: intValue(inputs.resolution),
      calendar_id: inputs.calendar.value ? Number(inputs.calendar.value) : null,
    };
    if (policy.source === "policy" || changed(policy, value)) policies.push(value);
  }
  await submitting(ui.form, async () => {
    const data = await api("PUT", "/admin/sla", { policies });
    view.policies = Array.isArray(data.policies) ? data.policies : [];
    render();
    $(".oc-sla-saved", ui.form).hidden = false;
  });
}

export function init() {
  ui.form.addEventListener("submit", (event) => {
    event.preventDefault();
    save();
  });
  ui.form.addEventListener("input", () => {
    $(".oc-sla-saved", ui.form).hidden = true;
  });
  // A calendar added, renamed or deleted changes the choices here.
  on("calendars:changed", () => {
    if (!ui.form.closest("[hidden]")) load().catch(report);
  });
}
