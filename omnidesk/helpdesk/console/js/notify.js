/*
 * Telling the agent: a new assignment to them or a mention in a note shows a toast, a
 * desktop notification (once the browser allows it) and plays a short tone made with
 * WebAudio (no sound file). The bell lists the agent's notifications.
 */
import { api, auth, report } from "./api.js";
import { current } from "./conversation.js";
import { $, clockTime, el, fire, on } from "./dom.js";

const ui = { bell: $(".oc-bell"), count: $(".oc-bell-count"), list: $(".oc-notifications"), toasts: $(".oc-toasts") };
const assignees = new Map(); // conversation id -> assignee id or name, as last seen
let audio = null;

function me(conv) {
  if (!conv || !conv.assignee || !auth.agent) return false;
  return conv.assignee.id === auth.agent.id;
}

function beep() {
  try {
    audio = audio || new (window.AudioContext || window.webkitAudioContext)();
    const osc = audio.createOscillator();
    const gain = audio.createGain();
    osc.type = "sine";
    osc.frequency.value = 880;
    gain.gain.setValueAtTime(0.0001, audio.currentTime);
    gain.gain.exponentialRampToValueAtTime(0.2, audio.currentTime + 0.02);
    gain.gain.exponentialRampToValueAtTime(0.0001, audio.currentTime + 0.25);
    osc.connect(gain).connect(audio.destination);
    osc.start();
    osc.stop(audio.currentTime + 0.3);
  } catch (_) {
    /* no audio here: the toast still shows */
  }
}

export function alert(title, body, conversationId) {
  const toast = el("div", { class: "oc-toast", role: "status" }, el("strong", { text: title }), el("span", { text: body || "" }));
  if (conversationId) toast.addEventListener("click", () => fire("conversation:open", String(conversationId)));
  ui.toasts.append(toast);
  setTimeout(() => toast.remove(), 8000);
  beep();
  if ("Notification" in window && Notification.permission === "granted" && document.visibilityState !== "visible") {
    try {
      const n = new Notification(title, { body: body || "", tag: `omnidesk-${conversationId || "note"}` });
      n.onclick = () => {
        window.focus();
        if (conversationId) fire("conversation:open", String(conversationId));
      };
    } catch (_) {
      /* some browsers only allow notifications from a service worker */
    }
  }
}

const RING_AGAIN_MS = 10_000;
const rung = new Map(); // conversation id -> when "New assignment" last rang for it

/** One "New assignment" alert per assignment, whichever sign of it comes first. */
function ringAssigned(id, body) {
  // The conversation on screen needs no alert: the agent sees it (and likely took it).
  if (String(current().id) === id) return;
  const last = rung.get(id);
  if (last !== undefined && Date.now() - last < RING_AGAIN_MS) return;
  rung.set(id, Date.now());
  alert("New assignment", body, id);
}

/** Compare what we knew with a fresh summary: a conversation newly assigned to me rings. */
export function seen(conv, quiet = false) {
  if (!conv || conv.id === undefined) return;
  const id = String(conv.id);
  const was = assignees.get(id);
  const now = conv.assignee ? conv.assignee.id : null;
  assignees.set(id, now);
  if (!quiet && was !== undefined && was !== now && me(conv)) {
    const who = (conv.contact && (conv.contact.name || conv.contact.email)) || `#${id}`;
    ringAssigned(id, `${who} (${conv.channel}) is yours`);
  }
}

/**
 * Automatic assignment tells the agent with a notification. A conversation handed over
 * and assigned in one go was never in any list here (it was with the bot), so ``seen``
 * cannot notice the change: the notification is what rings.
 */
function assignedToMe(n) {
  if (!auth.agent || !n.conversation_id) return;
  const id = String(n.conversation_id);
  assignees.set(id, auth.agent.id);
  ringAssigned(id, `Conversation #${id} is yours`);
}

export async function loadBell() {
  if (!auth.agent) return;
  ui.bell.hidden = false;
  const data = await api("GET", "/notifications");
  const items = Array.isArray(data.notifications) ? data.notifications : [];
  ui.count.textContent = data.unread ? String(data.unread) : "";
  ui.list.replaceChildren(
    ...items.map((n) => {
      const item = el(
        "li",
        { class: `oc-notification${n.read_at ? "" : " oc-unread-item"}` },
        el("span", { text: n.kind === "mention" ? `${(n.data && n.data.by) || "Someone"} mentioned you` : n.kind === "assigned" ? `${(n.data && n.data.by) || "Someone"} assigned you` : n.kind.replace(/_/g, " ") }),
        el("span", { class: "oc-muted", text: `#${n.conversation_id || ""} ${clockTime(n.created_at)}` }),
      );
      item.addEventListener("click", async () => {
        ui.list.hidden = true;
        if (n.conversation_id) fire("conversation:open", String(n.conversation_id));
        await api("POST", "/notifications/read", { ids: [n.id] }).catch(report);
        loadBell().catch(report);
      });
      return item;
    }),
  );
}

export function init() {
  on("live:conversation", (frame) => seen(frame.conversation));
  on("live:notification", (frame) => {
    const n = frame.notification || {};
    if (n.kind === "mention") alert("You were mentioned", (n.data && n.data.excerpt) || "", n.conversation_id);
    if (n.kind === "assigned") assignedToMe(n);
    loadBell().catch(report);
  });
  ui.bell.addEventListener("click", () => {
    ui.list.hidden = !ui.list.hidden;
  });
  // Browsers allow permission prompts and audio only after the person did something.
  document.addEventListener(
    "click",
    () => {
      if ("Notification" in window && Notification.permission === "default") Notification.requestPermission().catch(() => {});
      try {
        audio = audio || new (window.AudioContext || window.webkitAudioContext)();
      } catch (_) {
        /* no audio */
      }
    },
    { once: true },
  );
}
