/*
 * Small DOM and formatting helpers shared by every console module. Text from the API
 * always goes in with textContent (the `text` attribute of el()), never as HTML.
 */

export const $ = (selector, root = document) => root.querySelector(selector);
export const $$ = (selector, root = document) => Array.from(root.querySelectorAll(selector));

export function el(tag, attrs, ...children) {
  const node = document.createElement(tag);
  for (const [name, value] of Object.entries(attrs || {})) {
    if (value === null || value === undefined || value === false) continue;
    if (name === "class") node.className = value;
    else if (name === "text") node.textContent = value;
    else node.setAttribute(name, value === true ? "" : String(value));
  }
  for (const child of children) if (child) node.append(child);
  return node;
}

export function safeHref(raw) {
  if (typeof raw !== "string" || !raw) return null;
  try {
    const url = new URL(raw, location.href);
    return url.protocol === "http:" || url.protocol === "https:" ? url.href : null;
  } catch (_) {
    return null;
  }
}

export function parseDate(iso) {
  if (!iso) return null;
  const date = new Date(iso);
  return Number.isNaN(date.getTime()) ? null : date;
}

export function relativeTime(iso) {
  const date = parseDate(iso);
  if (!date) return "";
  const seconds = Math.round((Date.now() - date.getTime()) / 1000);
  if (seconds < 45) return "just now";
  const minutes = Math.round(seconds / 60);
  if (minutes < 60) return `${minutes} min ago`;
  const hours = Math.round(minutes / 60);
  if (hours < 24) return `${hours} h ago`;
  return date.toLocaleDateString([], { month: "short", day: "numeric" });
}

export function clockTime(iso) {
  const date = parseDate(iso);
  if (!date) return "";
  const sameDay = date.toDateString() === new Date().toDateString();
  const time = date.toLocaleTimeString([], { hour: "2-digit", minute: "2-digit" });
  return sameDay ? time : `${date.toLocaleDateString([], { month: "short", day: "numeric" })} ${time}`;
}

export function contactLabel(conversation) {
  const c = (conversation && conversation.contact) || {};
  return c.name || c.email || (c.id !== undefined && c.id !== null ? `Visitor #${c.id}` : "Visitor");
}

export function storageGet(area, key) {
  try {
    return window[area].getItem(key);
  } catch (_) {
    return null;
  }
}

export function storageSet(area, key, value) {
  try {
    if (value === null) window[area].removeItem(key);
    else window[area].setItem(key, value);
  } catch (_) {
    /* storage disabled: the value lives for this page only */
  }
}

export function metaItem(label, value, cls) {
  if (value === null || value === undefined || value === "") return null;
  return el(
    "span",
    { class: `oc-meta-item ${cls || ""}`.trim() },
    el("span", { class: "oc-meta-label", text: label }),
    el("span", { class: "oc-meta-value", text: String(value) }),
  );
}

const ERROR_VISIBLE_MS = 6000;
let errorTimer = 0;

export function showError(text) {
  const box = $(".oc-error");
  box.textContent = text;
  box.hidden = false;
  clearTimeout(errorTimer);
  errorTimer = setTimeout(() => {
    box.hidden = true;
  }, ERROR_VISIBLE_MS);
}

/** A tiny event hub the modules talk through, so none imports another's internals. */
const listeners = new Map();

export function on(name, callback) {
  if (!listeners.has(name)) listeners.set(name, []);
  listeners.get(name).push(callback);
}

export function fire(name, detail) {
  for (const callback of listeners.get(name) || []) {
    try {
      callback(detail);
    } catch (err) {
      console.error(err); // eslint-disable-line no-console
    }
  }
}
