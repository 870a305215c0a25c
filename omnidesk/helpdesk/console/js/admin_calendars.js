/*
 * Admin: business calendars, the hours SLA clocks count and the customer is told about.
 * Each has a time zone, periods per weekday ("09:00-12:00, 13:00-17:00"; several a
 * day, none crossing midnight) and holidays (YYYY-MM-DD). The server checks them all
 * and its message shows in the form.
 */
import { api, report } from "./api.js";
import { $, el, fire } from "./dom.js";
import { confirmThen, openForm, rowButton, splitList, submitting, wireForm } from "./admin_kit.js";

const DAYS = { mon: "Monday", tue: "Tuesday", wed: "Wednesday", thu: "Thursday", fri: "Friday", sat: "Saturday", sun: "Sunday" };

const ui = {
  rows: $(".oc-calendar-rows"),
  empty: $(".oc-calendar-empty"),
  add: $(".oc-calendar-new"),
  form: $(".oc-calendar-form"),
  name: $(".oc-calendar-in-name"),
  timezone: $(".oc-calendar-in-timezone"),
  zones: $("#oc-timezones"),
  days: $(".oc-calendar-in-days"),
  holidays: $(".oc-calendar-in-holidays"),
  save: $(".oc-calendar-save"),
  cancel: $(".oc-calendar-cancel"),
};

const view = { editing: null, dayInputs: {} }; // editing: the calendar's id, or null

export async function load() {
  const data = await api("GET", "/admin/calendars");
  const calendars = Array.isArray(data.calendars) ? data.calendars : [];
  ui.rows.replaceChildren(...calendars.map(item));
  ui.empty.hidden = calendars.length > 0;
}

function periodsText(periods) {
  return (periods || []).map(([start, end]) => `${start}-${end}`).join(", ");
}

function weekText(weekly) {
  const days = Object.keys(DAYS).filter((day) => (weekly || {})[day] && weekly[day].length);
  if (!days.length) return "Closed every day";
  return days.map((day) => `${day} ${periodsText(weekly[day])}`).join(" · ");
}

function item(calendar) {
  const holidays = calendar.holidays || [];
  return el(
    "li",
    { class: "oc-admin-item oc-calendar-row", "data-id": String(calendar.id) },
    el(
      "div",
      { class: "oc-admin-item-main" },
      el("h3", { class: "oc-calendar-name", text: `${calendar.name} (${calendar.timezone})` }),
      el("p", { class: "oc-calendar-week", text: weekText(calendar.weekly) }),
      el("p", { class: "oc-muted", text: holidays.length ? `Holidays: ${holidays.join(", ")}` : "No holidays" }),
    ),
    el(
      "div",
      { class: "oc-row-actions" },
      rowButton("Edit", `Edit calendar ${calendar.name}`, () => edit(calendar)),
      rowButton("Delete", `Delete calendar ${calendar.name}`, () => remove(calendar), true),
    ),
  );
}

function fill(calendar) {
  const c = calendar || { timezone: Intl.DateTimeFormat().resolvedOptions().timeZone || "UTC", weekly: {} };
  view.editing = calendar ? calendar.id : null;
  ui.name.value = c.name || "";
  ui.timezone.value = c.timezone || "UTC";
  for (const [day, input] of Object.entries(view.dayInputs)) input.value = periodsText((c.weekly || {})[day]);
  ui.holidays.value = (c.holidays || []).join("\n");
  ui.save.textContent = calendar ? "Save" : "Add calendar";
}

function edit(calendar) {
  fill(calendar);
  openForm(ui.form, `Edit calendar ${calendar.name}`);
}

/** "09:00-12:00, 13:00-17:00" → [["09:00", "12:00"], ["13:00", "17:00"]]. */
function parsePeriods(text) {
  return splitList(text).map((period) => period.split(/\s*[-–]\s*/));
}

async function save() {
  const weekly = {};
  for (const [day, input] of Object.entries(view.dayInputs)) {
    const periods = parsePeriods(input.value);
    if (periods.length) weekly[day] = periods;
  }
  const body = {
    name: ui.name.value.trim(),
    timezone: ui.timezone.value.trim(),
    weekly,
    holidays: splitList(ui.holidays.value),
  };
  const editing = view.editing;
  const done = await submitting(ui.form, async () => {
    if (!body.name) throw new Error("Give the calendar a name.");
    if (editing === null) await api("POST", "/admin/calendars", body);
    else await api("PATCH", `/admin/calendars/${editing}`, body);
  });
  if (!done) return;
  ui.form.hidden = true;
  fire("calendars:changed");
  await load().catch(report);
}

function remove(calendar) {
  const question = `Delete calendar ${calendar.name}? SLA targets using it then follow the default hours.`;
  return confirmThen(question, async () => {
    await api("DELETE", `/admin/calendars/${calendar.id}`);
    if (view.editing === calendar.id) ui.form.hidden = true;
    fire("calendars:changed");
    await load();
  });
}

function buildDayInputs() {
  ui.days.replaceChildren(
    ...Object.entries(DAYS).map(([day, label]) => {
      const input = el("input", {
        type: "text",
        class: `oc-calendar-day oc-calendar-day-${day}`,
        placeholder: "closed",
        autocomplete: "off",
        spellcheck: "false",
      });
      view.dayInputs[day] = input;
      return el("label", { class: "oc-field" }, el("span", { text: label }), input);
    }),
  );
  const zones = typeof Intl.supportedValuesOf === "function" ? Intl.supportedValuesOf("timeZone") : [];
  ui.zones.replaceChildren(...["UTC", ...zones].map((zone) => el("option", { value: zone })));
}

export function init() {
  buildDayInputs();
  wireForm(ui.form, { add: ui.add, addTitle: "Add a calendar", cancel: ui.cancel, reset: () => fill(null), save });
}
