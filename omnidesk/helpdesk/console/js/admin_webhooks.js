/*
 * Admin: outbound webhooks. Each endpoint gets a signed POST for the events ticked for
 * it. One form adds or edits (URL, events, description, active); the signing secret is
 * shown once, after adding or rotating; "Send test" queues a ping; "Deliveries" lists an
 * endpoint's recent deliveries with their state and last answer, and a failed one can
 * be retried.
 */
import { api, report } from "./api.js";
import { $, $$, el, parseDate } from "./dom.js";
import { badge, confirmThen, openForm, rowButton, submitting, wireForm } from "./admin_kit.js";

const EVENT_NAMES = {
  "conversation.created": "Conversation created",
  "conversation.handed_off": "Handed to a person",
  "conversation.assigned": "Assigned or unassigned",
  "conversation.resolved": "Resolved",
  "conversation.rated": "Rated",
  "contact.created": "Contact created",
  "contact.merged": "Contacts merged",
};
const DELIVERIES_PAGE = 20;
const POLL_MS = 1500;

const ui = {
  rows: $(".oc-webhook-rows"),
  empty: $(".oc-webhook-empty"),
  add: $(".oc-webhook-new"),
  form: $(".oc-webhook-form"),
  url: $(".oc-webhook-in-url"),
  description: $(".oc-webhook-in-description"),
  events: $(".oc-webhook-in-events"),
  active: $(".oc-webhook-in-active"),
  save: $(".oc-webhook-save"),
  cancel: $(".oc-webhook-cancel"),
  secretBox: $(".oc-webhook-secret-box"),
  secret: $(".oc-webhook-secret"),
  deliveries: $(".oc-webhook-deliveries"),
  deliveriesTitle: $(".oc-webhook-deliveries-title"),
  deliveryRows: $(".oc-delivery-rows"),
  deliveryEmpty: $(".oc-delivery-empty"),
  more: $(".oc-delivery-more"),
};

// editing: the webhook's id, or null; watching: the one whose deliveries are shown.
const view = { events: Object.keys(EVENT_NAMES), editing: null, watching: null, next: null, timer: null };

export async function load() {
  const data = await api("GET", "/admin/webhooks");
  if (Array.isArray(data.events)) view.events = data.events;
  const hooks = Array.isArray(data.webhooks) ? data.webhooks : [];
  ui.rows.replaceChildren(...hooks.map(item));
  ui.empty.hidden = hooks.length > 0;
  const watched = hooks.find((hook) => hook.id === view.watching);
  if (watched) await showDeliveries(watched);
  else ui.deliveries.hidden = true;
}

function item(hook) {
  const events = hook.events.map((name) => EVENT_NAMES[name] || name).join(", ");
  return el(
    "li",
    { class: `oc-admin-item oc-webhook-row${hook.active ? "" : " oc-off"}`, "data-id": String(hook.id) },
    el(
      "div",
      { class: "oc-admin-item-main" },
      el("h3", { class: "oc-webhook-url", text: hook.url }),
      badge(hook.active ? "active" : "paused", hook.active ? "oc-availability-online" : "oc-disabled"),
      el("p", { class: "oc-webhook-events", text: events }),
      el("p", { class: "oc-muted", text: [hook.description, `secret ${hook.secret}`].filter(Boolean).join(" · ") }),
    ),
    el(
      "div",
      { class: "oc-row-actions" },
      rowButton("Edit", `Edit webhook ${hook.url}`, () => edit(hook)),
      rowButton("Send test", `Send test to ${hook.url}`, () => sendTest(hook)),
      rowButton("Deliveries", `Deliveries to ${hook.url}`, () => watch(hook)),
      rowButton("Rotate secret", `Rotate the secret of ${hook.url}`, () => rotate(hook)),
      rowButton("Delete", `Delete webhook ${hook.url}`, () => remove(hook), true),
    ),
  );
}

function fill(hook) {
  view.editing = hook ? hook.id : null;
  ui.url.value = hook ? hook.url : "";
  ui.description.value = hook ? hook.description : "";
  ui.active.checked = hook ? hook.active : true;
  const ticked = new Set(hook ? hook.events : []);
  ui.events.replaceChildren(
    ...view.events.map((name) =>
      el(
        "label",
        { class: "oc-check" },
        el("input", { type: "checkbox", value: name, checked: ticked.has(name) }),
        el("span", { text: EVENT_NAMES[name] || name, title: name }),
      ),
    ),
  );
  ui.save.textContent = hook ? "Save" : "Add webhook";
}

function edit(hook) {
  fill(hook);
  openForm(ui.form, `Edit webhook ${hook.url}`);
}

function showSecret(secret) {
  ui.secret.value = secret || "";
  ui.secretBox.hidden = !secret;
  if (secret) {
    ui.secret.focus();
    ui.secret.select();
  }
}

async function save() {
  const body = {
    url: ui.url.value.trim(),
    description: ui.description.value.trim(),
    events: $$("input:checked", ui.events).map((box) => box.value),
    active: ui.active.checked,
  };
  const editing = view.editing;
  let made = null;
  const done = await submitting(ui.form, async () => {
    if (!body.url) throw new Error("Give the address to send to.");
    if (!body.events.length) throw new Error("Tick at least one event.");
    if (editing === null) made = (await api("POST", "/admin/webhooks", body)).webhook;
    else await api("PATCH", `/admin/webhooks/${editing}`, body);
  });
  if (!done) return;
  ui.form.hidden = true;
  showSecret(made ? made.secret : "");
  await load().catch(report);
}

function rotate(hook) {
  return confirmThen(`Make a new secret for ${hook.url}? The old one stops working at once.`, async () => {
    const data = await api("POST", `/admin/webhooks/${hook.id}/rotate`);
    showSecret(data.webhook.secret);
    await load();
  });
}

function remove(hook) {
  return confirmThen(`Delete the webhook to ${hook.url} and its deliveries?`, async () => {
    await api("DELETE", `/admin/webhooks/${hook.id}`);
    if (view.editing === hook.id) ui.form.hidden = true;
    if (view.watching === hook.id) view.watching = null;
    await load();
  });
}

function sendTest(hook) {
  return confirmThen(null, async () => {
    await api("POST", `/admin/webhooks/${hook.id}/test`);
    view.watching = hook.id;
    await showDeliveries(hook);
  });
}

function watch(hook) {
  view.watching = hook.id;
  return showDeliveries(hook).catch(report);
}

function refreshIfWatching(hook) {
  view.timer = null;
  if (view.watching === hook.id && !ui.deliveries.hidden) showDeliveries(hook).catch(report);
}

async function showDeliveries(hook) {
  ui.deliveriesTitle.textContent = `Recent deliveries to ${hook.url}`;
  ui.deliveryRows.replaceChildren();
  ui.deliveries.hidden = false;
  await page(hook, null);
}

async function page(hook, beforeId) {
  const query = `limit=${DELIVERIES_PAGE}` + (beforeId ? `&before_id=${beforeId}` : "");
  const data = await api("GET", `/admin/webhooks/${hook.id}/deliveries?${query}`);
  ui.deliveryRows.append(...(data.deliveries || []).map((d) => deliveryRow(hook, d)));
  ui.deliveryEmpty.hidden = ui.deliveryRows.children.length > 0;
  view.next = data.next_before_id || null;
  ui.more.hidden = !view.next;
  ui.more.onclick = () => page(hook, view.next).catch(report);
  // While something is on its way, look again for its answer.
  const waiting = $$(".oc-delivery-row", ui.deliveryRows).some((row) => row.dataset.state === "pending");
  if (waiting && !beforeId && !view.timer) view.timer = setTimeout(() => refreshIfWatching(hook), POLL_MS);
}

function deliveryRow(hook, delivery) {
  const at = parseDate(delivery.created_at);
  const answer = [delivery.last_status ? `HTTP ${delivery.last_status}` : "", delivery.last_error || ""]
    .filter(Boolean)
    .join(" · ");
  const retry =
    delivery.state === "failed"
      ? rowButton("Retry", `Retry delivery ${delivery.delivery_id}`, () =>
          confirmThen(null, async () => {
            await api("POST", `/admin/webhooks/${hook.id}/deliveries/${delivery.id}/retry`);
            await showDeliveries(hook);
          }),
        )
      : null;
  return el(
    "tr",
    { class: "oc-delivery-row", "data-state": delivery.state, "data-event": delivery.event },
    el("td", {}, el("time", { datetime: delivery.created_at, text: at ? at.toLocaleString() : "" })),
    el("td", {}, el("code", { text: delivery.event, title: delivery.delivery_id })),
    el("td", { class: "oc-delivery-state" }, badge(delivery.state, `oc-delivery-${delivery.state}`)),
    el("td", { class: "oc-delivery-attempts", text: String(delivery.attempts) }),
    el("td", { class: "oc-delivery-answer", text: answer }),
    el("td", {}, retry),
  );
}

export function init() {
  wireForm(ui.form, {
    add: ui.add,
    addTitle: "Add a webhook",
    cancel: ui.cancel,
    reset: () => fill(null),
    save,
  });
  ui.add.addEventListener("click", () => showSecret(""));
}
