/*
 * Data rights on the contact panel, for admins: "Export data" downloads everything held
 * about the contact (a zip of data.json and their files); "Erase…" removes their words,
 * files, identities and details for good once the admin types the contact's number.
 * An erased contact shows when it was erased instead.
 */
import { api, auth, download, report } from "./api.js";
import { $, clockTime, el, fire, on } from "./dom.js";

let box = null;
let shown = null;

function isAdmin() {
  return Boolean(auth.agent && auth.agent.role === "admin");
}

function container() {
  if (!box) {
    box = el("div", { class: "oc-contact-rights", hidden: true });
    $(".oc-contact-panel").append(box);
  }
  return box;
}

function render(panel) {
  const part = container();
  shown = panel;
  part.hidden = !panel || !isAdmin();
  if (part.hidden) return part.replaceChildren();
  if (panel.erased_at) {
    return part.replaceChildren(el("p", { class: "oc-muted oc-erased", text: `Erased ${clockTime(panel.erased_at)}` }));
  }
  const exporter = el("button", { type: "button", class: "oc-export-contact oc-btn oc-btn-secondary", text: "Export data" });
  const eraser = el("button", { type: "button", class: "oc-erase-contact oc-btn oc-btn-danger", text: "Erase…" });
  exporter.addEventListener("click", () => exportContact(panel.id).catch(report));
  eraser.addEventListener("click", () => erase(panel.id).catch(report));
  part.replaceChildren(el("h4", { text: "Data rights" }), exporter, eraser);
}

async function exportContact(id) {
  await download(`/contacts/${id}/export`, `contact-${id}.zip`);
}

async function erase(id) {
  const typed = window.prompt(
    `Erase contact #${id}? Their messages are redacted, files deleted and identities and details removed. This cannot be undone.\n\nType ${id} to confirm.`,
  );
  if (typed === null) return;
  if (typed.trim() !== String(id)) {
    report(new Error(`Not erased: type ${id} to confirm.`));
    return;
  }
  await api("POST", `/contacts/${id}/erase`, { confirm: id });
  if (shown && shown.id === id) fire("contact:changed", id);
}

export function init() {
  on("contact:loaded", render);
}
