/*
 * What the admin views (agents, teams, rules, SLA and hours) share: the people lists,
 * form plumbing that shows the server's refusal next to the form it concerns, and small
 * builders for options, check boxes and row buttons. Text goes in as text only.
 */
import { api, report } from "./api.js";
import { $, $$, el } from "./dom.js";

/** Every agent and team, for names, pickers and check boxes. */
export async function people() {
  const [agents, teams] = await Promise.all([api("GET", "/agents"), api("GET", "/teams")]);
  return {
    agents: Array.isArray(agents.agents) ? agents.agents : [],
    teams: Array.isArray(teams.teams) ? teams.teams : [],
  };
}

/** "a, b ,, c" → ["a", "b", "c"] (commas or new lines). */
export function splitList(text) {
  return String(text || "")
    .split(/[,\n]/)
    .map((part) => part.trim())
    .filter(Boolean);
}

/** Fill a <select> with [value, text] pairs, keeping the choice when it is still there. */
export function fillSelect(select, pairs, chosen) {
  const keep = chosen === undefined ? select.value : String(chosen ?? "");
  select.replaceChildren(...pairs.map(([value, text]) => el("option", { value: String(value), text })));
  if (pairs.some(([value]) => String(value) === keep)) select.value = keep;
}

/** One labelled check box per item ({id, name}) in ``box``; ``chosen``: ids ticked. */
export function fillChecks(box, items, chosen) {
  const ticked = new Set((chosen || []).map(Number));
  box.replaceChildren(
    ...items.map((item) =>
      el(
        "label",
        { class: "oc-check" },
        el("input", { type: "checkbox", value: String(item.id), checked: ticked.has(Number(item.id)) }),
        el("span", { text: item.name }),
      ),
    ),
  );
  if (!items.length) box.append(el("span", { class: "oc-muted", text: "None yet." }));
}

export function checkedIds(box) {
  return $$("input[type=checkbox]:checked", box).map((input) => Number(input.value));
}

/** A small row button; ``label`` is what a screen reader hears ("Edit Ada"). */
export function rowButton(text, label, onClick, danger = false) {
  const button = el("button", {
    type: "button",
    class: `oc-btn ${danger ? "oc-btn-danger" : "oc-btn-secondary"} oc-btn-small`,
    "aria-label": label,
    text,
  });
  button.addEventListener("click", onClick);
  return button;
}

export function badge(text, cls) {
  return el("span", { class: `oc-badge ${cls || ""}`.trim(), text });
}

/** The form's error line: the server's message, shown until the next try. */
export function formError(form, message) {
  const line = $(".oc-form-error", form);
  if (!line) return;
  line.textContent = message || "";
  line.hidden = !message;
}

/**
 * Run ``work`` for ``form`` with its buttons disabled; a refusal shows in the form (and
 * as the console's error toast). Resolves to true when the work went through.
 */
export async function submitting(form, work) {
  const buttons = $$("button", form);
  for (const button of buttons) button.disabled = true;
  formError(form, "");
  try {
    await work();
    return true;
  } catch (err) {
    formError(form, err && err.message ? err.message : "Something went wrong.");
    report(err);
    return false;
  } finally {
    for (const button of buttons) button.disabled = false;
  }
}

/** An integer from an input, or null when it is empty (the server checks the range). */
export function intValue(input) {
  const text = input.value.trim();
  if (!text) return null;
  const value = Number(text);
  return Number.isInteger(value) ? value : Number.NaN;
}

/** Open ``form`` (shown below its list) with ``title`` and focus its first field. */
export function openForm(form, title) {
  const heading = $("h3", form);
  if (heading) heading.textContent = title;
  formError(form, "");
  form.hidden = false;
  const first = $("input:not([type=checkbox]), select, textarea", form);
  if (first) first.focus();
  form.scrollIntoView({ block: "nearest" });
}

/**
 * The usual wiring of an add/edit form: ``add`` opens it empty (``reset``), ``cancel``
 * hides it, submitting it runs ``save``.
 */
export function wireForm(form, { add, addTitle, cancel, reset, save }) {
  add.addEventListener("click", () => {
    reset();
    openForm(form, addTitle);
  });
  cancel.addEventListener("click", () => {
    form.hidden = true;
  });
  form.addEventListener("submit", (event) => {
    event.preventDefault();
    save();
  });
}

/** Ask ``question`` (none: no need); when confirmed run ``work``, a refusal shown as the
 * error toast. */
export async function confirmThen(question, work) {
  if (question && !window.confirm(question)) return;
  try {
    await work();
  } catch (err) {
    report(err);
  }
}
