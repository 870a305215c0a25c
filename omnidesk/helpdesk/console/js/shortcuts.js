/*
 * Keyboard shortcuts for the common actions, off while typing in a field:
 * j / k next / previous conversation, r reply, n note, e resolve, a assign to me,
 * Ctrl+K canned responses, ? this help, Escape leaves the reply box.
 */
import { $ } from "./dom.js";

const help = $(".oc-help");

function typingInField(target) {
  return target instanceof HTMLElement && (target.isContentEditable || ["INPUT", "TEXTAREA", "SELECT"].includes(target.tagName));
}

/** ``actions`` maps a key to what it does: {j, k, r, n, e, a, canned}. */
export function init(actions, active) {
  document.addEventListener("keydown", (event) => {
    if (!active()) return;
    if (event.key === "Escape") {
      if (help.open) help.close();
      else if (typingInField(event.target)) event.target.blur();
      return;
    }
    if ((event.ctrlKey || event.metaKey) && event.key.toLowerCase() === "k") {
      event.preventDefault();
      actions.canned();
      return;
    }
    if (event.ctrlKey || event.metaKey || event.altKey || typingInField(event.target)) return;
    if (event.key === "?") {
      event.preventDefault();
      if (help.open) help.close();
      else help.showModal();
      return;
    }
    const action = actions[event.key];
    if (typeof action === "function") {
      event.preventDefault();
      action();
    }
  });
  $(".oc-help-close").addEventListener("click", () => help.close());
  $(".oc-help-open").addEventListener("click", () => help.showModal());
}
