/*
 * The console's one live connection: WebSocket /api/v1/live. Frames from the server
 * (hello, conversation, message, typing, presence, notification) are fired as
 * "live:<type>" events; the console sends what it views and when the agent types.
 * It reconnects with capped exponential back-off and jitter; while it is down the
 * console falls back to refreshing on its own ("live:down" / "live:up").
 */
import { apiBase } from "./api.js";
import { fire } from "./dom.js";

const MIN_DELAY_MS = 500;
const MAX_DELAY_MS = 30_000;

let socket = null;
let attempts = 0;
let timer = 0;
let stopped = true;
let viewing = null;

function url() {
  const base = new URL(`${apiBase}/live`, location.href);
  base.protocol = base.protocol === "https:" ? "wss:" : "ws:";
  return base.href;
}

let me = null;
/** Who the server says this socket is (its hello frame), to tell oneself among viewers. */
export function hello() {
  return me;
}

function connect() {
  if (stopped) return;
  let ws;
  try {
    // Browsers send the session cookie with the handshake. A personal-token sign-in
    // has no cookie: the server refuses it, and the console refreshes on its own.
    ws = new WebSocket(url());
  } catch (_) {
    retry();
    return;
  }
  socket = ws;
  ws.addEventListener("open", () => {
    attempts = 0;
    fire("live:up");
    if (viewing !== null) send({ type: "view", conversation_id: viewing });
  });
  ws.addEventListener("message", (event) => {
    let frame;
    try {
      frame = JSON.parse(event.data);
    } catch (_) {
      return;
    }
    if (!frame || typeof frame.type !== "string") return;
    if (frame.type === "hello") me = frame.agent || null;
    fire(`live:${frame.type}`, frame);
  });
  ws.addEventListener("close", () => {
    if (socket === ws) socket = null;
    fire("live:down");
    retry();
  });
}

function retry() {
  clearTimeout(timer);
  if (stopped) return;
  const cap = Math.min(MAX_DELAY_MS, MIN_DELAY_MS * 2 ** attempts);
  attempts += 1;
  timer = setTimeout(connect, cap / 2 + Math.random() * (cap / 2));
}

export function start() {
  if (!stopped) return;
  stopped = false;
  attempts = 0;
  connect();
}

export function stop() {
  stopped = true;
  clearTimeout(timer);
  if (socket) socket.close();
  socket = null;
}

export function isUp() {
  return socket !== null && socket.readyState === WebSocket.OPEN;
}

function send(frame) {
  if (isUp()) socket.send(JSON.stringify(frame));
}

/** The conversation on screen (null for none): the server tells the others. */
export function view(conversationId) {
  viewing = conversationId;
  send({ type: "view", conversation_id: conversationId });
}

let typingUntil = 0;
let typingTimer = 0;

/** The agent typed in the reply box: say so at most every 2 s, and stop after 4 s. */
export function typing(conversationId) {
  const now = Date.now();
  if (now > typingUntil - 2000) send({ type: "typing", conversation_id: conversationId, typing: true });
  typingUntil = now + 4000;
  clearTimeout(typingTimer);
  typingTimer = setTimeout(() => stopTyping(conversationId), 4000);
}

export function stopTyping(conversationId) {
  clearTimeout(typingTimer);
  if (typingUntil) send({ type: "typing", conversation_id: conversationId, typing: false });
  typingUntil = 0;
}
