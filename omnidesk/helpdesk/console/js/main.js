/*
 * omnidesk agent console: start-up and the glue between the modules. Finds who is
 * signed in (else off to /signin), shows the views an
 * agent or admin may use, and keeps the list and the open conversation fresh: live
 * over the WebSocket, or by refreshing every few seconds only while it is down.
 * Plain ES modules, no build step; every text from the API goes in as text.
 */
import * as adminViews from "./admin.js";
import * as api from "./api.js";
import * as articles from "./articles.js";
import * as composer from "./composer.js";
import * as contact from "./contact.js";
import * as controls from "./controls.js";
import * as conversation from "./conversation.js";
import { $, $$, on, storageGet, storageSet } from "./dom.js";
import * as evaluation from "./evaluation.js";
import * as gaps from "./gaps.js";
import * as list from "./list.js";
import * as live from "./live.js";
import * as notify from "./notify.js";
import * as search from "./search.js";
import * as shortcuts from "./shortcuts.js";

const VIEW_KEY = "omnidesk.console_view";
const VIEWS = ["conversations", "articles", "gaps", ...adminViews.VIEWS, ...adminViews.OPEN_VIEWS];
const FALLBACK_REFRESH_MS = 2500;

const ui = {
  login: $(".oc-login"),
  main: $(".oc-main"),
  articles: $(".oc-articles"),
  gaps: $(".oc-gaps"),
  nav: $(".oc-nav"),
  navButtons: $$(".oc-nav-btn"),
  logout: $(".oc-logout"),
  account: $(".oc-account-open"),
  agentLabel: $(".oc-agent-label"),
  agentName: $(".oc-agent-name"),
  liveState: $(".oc-live"),
};

const state = { view: "conversations", timer: 0, refreshing: false, again: false, firstList: true };

// -- keeping fresh ----------------------------------------------------------------------

async function refresh() {
  if (state.view !== "conversations" || !api.auth.agent) return;
  if (state.refreshing) {
    state.again = true;
    return;
  }
  state.refreshing = true;
  try {
    const [, , mine] = await Promise.all([list.load(), conversation.reload(), myConversations()]);
    for (const row of [...list.rows(), ...mine]) notify.seen(row, state.firstList);
    state.firstList = false;
  } catch (err) {
    api.report(err);
  } finally {
    state.refreshing = false;
    if (state.again) {
      state.again = false;
      refreshSoon();
    }
  }
}

/** Without the live socket, new assignments show up only in the "mine" view: ask it. */
async function myConversations() {
  if (live.isUp()) return [];
  const params = new URLSearchParams({ view: "mine", limit: "50" });
  const data = await api.api("GET", `/conversations?${params}`);
  return Array.isArray(data.conversations) ? data.conversations : [];
}

let soon = 0;
function refreshSoon(delay = 150) {
  clearTimeout(soon);
  soon = setTimeout(refresh, delay);
}

function fallbackTick() {
  clearTimeout(state.timer);
  if (live.isUp() || !api.auth.agent) return;
  if (document.visibilityState !== "hidden") refresh();
  state.timer = setTimeout(fallbackTick, FALLBACK_REFRESH_MS);
}

// -- views and sign-in ------------------------------------------------------------------

function showView(view) {
  const admin = api.auth.agent && api.auth.agent.role === "admin";
  const allowed = admin ? VIEWS : ["conversations", ...adminViews.OPEN_VIEWS];
  state.view = allowed.includes(view) ? view : "conversations";
  storageSet("sessionStorage", VIEW_KEY, state.view);
  for (const button of ui.navButtons) {
    const active = button.dataset.view === state.view;
    button.classList.toggle("oc-active", active);
    if (active) button.setAttribute("aria-current", "page");
    else button.removeAttribute("aria-current");
  }
  ui.account.setAttribute("aria-pressed", String(state.view === "account"));
  ui.main.hidden = state.view !== "conversations";
  ui.articles.hidden = state.view !== "articles";
  ui.gaps.hidden = state.view !== "gaps";
  adminViews.show(state.view);
  if (state.view === "conversations") refreshSoon(0);
  if (state.view === "articles") articles.loadArticles().catch(api.report);
  if (state.view === "gaps") gaps.loadGaps().catch(api.report);
}

function showLogin() {
  live.stop();
  clearTimeout(state.timer);
  for (const part of [ui.main, ui.articles, ui.gaps, ui.nav, ui.logout, ui.account, ui.agentLabel]) part.hidden = true;
  adminViews.show(null);
  ui.login.hidden = false;
}

async function signedIn(agent) {
  ui.login.hidden = true;
  ui.logout.hidden = false;
  ui.agentLabel.hidden = false;
  ui.agentName.value = agent.name || "";
  ui.agentName.readOnly = true; // the account's own name
  await loadDirectory();
  composer.loadCanned().catch(api.report);
  notify.loadBell().catch(api.report);
  live.start();
  const saved = storageGet("sessionStorage", VIEW_KEY);
  showView(VIEWS.includes(saved) ? saved : "conversations");
  // The ways to other views appear once the first one is shown: a click made while the
  // directory loaded would otherwise be undone by the first view.
  ui.account.hidden = false;
  ui.nav.hidden = agent.role !== "admin";
}

/** Agents and teams for the filters and the assign menu (again when an admin changes them). */
async function loadDirectory() {
  const directory = await api.api("GET", "/directory").catch(() => ({ agents: [], teams: [] }));
  list.setDirectory(directory);
  controls.setDirectory(directory);
}

async function start() {
  let agent = null;
  try {
    agent = await api.signIn(null);
  } catch (_) {
    agent = null;
  }
  if (agent) return signedIn(agent);
  showLogin();
  location.href = api.signinUrl();
  return undefined;
}

api.whenSignedOut(() => {
  showLogin();
  location.href = api.signinUrl();
});

// -- wiring -------------------------------------------------------------------------------

for (const module of [list, search, conversation, composer, controls, contact, notify, articles, evaluation, gaps, adminViews]) {
  module.init();
}

on("conversation:select", (id) => {
  composer.clear();
  conversation.open(id).catch(api.report);
});
on("conversation:open", (id) => {
  if (state.view !== "conversations") showView("conversations");
  list.select(id);
});
on("conversation:gone", () => list.select(null));
on("conversation:changed", () => refreshSoon());
on("conversation:read", () => refreshSoon());
on("contact:changed", () => refreshSoon(0));
on("list:changed", () => refreshSoon(0));
on("nav", (view) => showView(view));
on("directory:changed", () => loadDirectory());
on("live:conversation", () => refreshSoon());
on("live:message", (frame) => {
  list.showMessage(frame.conversation_id, frame.message);
  refreshSoon();
});
on("live:up", () => {
  ui.liveState.dataset.state = "live";
  ui.liveState.title = "Live";
  clearTimeout(state.timer);
  refreshSoon(0); // catch up on what happened while down
});
on("live:down", () => {
  ui.liveState.dataset.state = "offline";
  ui.liveState.title = "Reconnecting — refreshing every few seconds meanwhile";
  fallbackTick();
});
document.addEventListener("visibilitychange", () => {
  if (document.visibilityState === "visible" && api.auth.agent) refreshSoon(0);
});

for (const button of ui.navButtons) {
  button.addEventListener("click", () => {
    if (button.dataset.view !== state.view && articles.confirmDiscard()) showView(button.dataset.view);
  });
}
ui.logout.addEventListener("click", () => api.signOut(""));
// The account page toggles: agents have no nav to leave it by.
ui.account.addEventListener("click", () => {
  if (state.view === "account") showView("conversations");
  else if (articles.confirmDiscard()) showView("account");
});

shortcuts.init(
  {
    j: () => list.step(1),
    k: () => list.step(-1),
    r: () => composer.focus("reply"),
    n: () => composer.focus("note"),
    e: () => controls.resolve(),
    a: () => controls.assignToMe(),
    canned: () => composer.openCanned(),
    "/": () => search.focus(),
  },
  () => state.view === "conversations" && api.auth.agent !== null,
);

start();
