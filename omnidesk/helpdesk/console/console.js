/*
 * omnidesk agent console.
 *
 * A conversation list by state (polled every 2 s), the selected conversation's
 * history, a reply box, and Take / Resolve. Signed in as an admin it also
 * offers the admin views: Articles (list, editor with live preview, history,
 * evaluation) and Gaps (what the bot could not answer, with one-click drafts).
 * Talks to /api/v1 with the session cookie set by /signin; state-changing calls
 * carry the session's CSRF token (from /api/v1/me). A 401 goes back to /signin.
 * All text from the API is
 * rendered with textContent; only the article preview is HTML, and that comes from
 * the server's safe Markdown renderer (raw HTML escaped).
 * Plain ES2020, no dependencies, no build step.
 */
(() => {
  "use strict";

  const TAB_KEY = "omnidesk.console_tab";
  const VIEW_KEY = "omnidesk.console_view";
  const VIEWS = ["conversations", "articles", "gaps"];
  const PREVIEW_DELAY_MS = 300;
  const POLL_MS = 2000;
  const ERROR_VISIBLE_MS = 6000;
  const STATES = ["queued", "assigned", "bot", "resolved", "all"];
  const AUTHOR_LABELS = { contact: "Customer", bot: "Bot", agent: "Agent", system: "System" };

  // The console is served at <root>/console; the API lives at <root>/api/v1.
  const root = location.pathname.replace(/\/console(?:\/.*)?$/, "");
  const apiBase = `${root}/api/v1`;

  const $ = (selector) => document.querySelector(selector);
  const ui = {
    login: $(".oc-login"),
    main: $(".oc-main"),
    logout: $(".oc-logout"),
    agentLabel: $(".oc-agent-label"),
    agentName: $(".oc-agent-name"),
    tabs: Array.from(document.querySelectorAll(".oc-tab")),
    list: $(".oc-list"),
    empty: $(".oc-empty"),
    placeholder: $(".oc-placeholder"),
    conversation: $(".oc-conversation"),
    contactName: $(".oc-contact-name"),
    meta: $(".oc-meta"),
    assign: $(".oc-assign"),
    resolve: $(".oc-resolve"),
    messages: $(".oc-messages"),
    composer: $(".oc-composer"),
    reply: $(".oc-reply"),
    send: $(".oc-send"),
    error: $(".oc-error"),
    nav: $(".oc-nav"),
    navButtons: Array.from(document.querySelectorAll(".oc-nav-btn")),
    articles: $(".oc-articles"),
    articleSearch: $(".oc-article-search"),
    filterStatus: $(".oc-filter-status"),
    filterCategory: $(".oc-filter-category"),
    newArticle: $(".oc-new-article"),
    evaluate: $(".oc-evaluate"),
    articleList: $(".oc-article-list"),
    articleEmpty: $(".oc-article-empty"),
    articlePlaceholder: $(".oc-article-placeholder"),
    editor: $(".oc-editor"),
    editorTitle: $(".oc-editor-title"),
    editorMeta: $(".oc-editor-meta"),
    save: $(".oc-save"),
    publish: $(".oc-publish"),
    remove: $(".oc-delete"),
    inTitle: $(".oc-in-title"),
    inSlug: $(".oc-in-slug"),
    inCategory: $(".oc-in-category"),
    inTags: $(".oc-in-tags"),
    inLanguage: $(".oc-in-language"),
    inStatus: $(".oc-in-status"),
    inBody: $(".oc-in-body"),
    categories: $("#oc-categories"),
    preview: $(".oc-preview"),
    historyList: $(".oc-history-list"),
    evalPanel: $(".oc-eval"),
    evalClose: $(".oc-eval-close"),
    evalStatus: $(".oc-eval-status"),
    evalMetrics: $(".oc-eval-metrics"),
    evalCalibration: $(".oc-eval-calibration"),
    evalMisses: $(".oc-eval-misses"),
    gaps: $(".oc-gaps"),
    gapsRefresh: $(".oc-gaps-refresh"),
    gapsStatus: $(".oc-gaps-status"),
    gapList: $(".oc-gap-list"),
  };

  // -- storage ---------------------------------------------------------------------

  function storageGet(area, key) {
    try {
      return window[area].getItem(key);
    } catch (_) {
      return null;
    }
  }

  function storageSet(area, key, value) {
    try {
      if (value === null) window[area].removeItem(key);
      else window[area].setItem(key, value);
    } catch (_) {
      /* storage disabled: the value lives for this page only */
    }
  }

  const state = {
    token: null, // the session's CSRF token once /api/v1/me answered
    tab: STATES.includes(storageGet("sessionStorage", TAB_KEY))
      ? storageGet("sessionStorage", TAB_KEY)
      : "queued",
    selectedId: null,
    conversation: null,
    messageIds: [],
    listSignatures: new Map(),
    pollTimer: 0,
    polling: false,
    refreshAgain: false,
    listSeq: 0,
    detailSeq: 0,
    busy: false,
    role: null,
    view: "conversations",
  };

  // -- DOM helpers -------------------------------------------------------------------

  function el(tag, attrs, ...children) {
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

  function safeHref(raw) {
    if (typeof raw !== "string" || !raw) return null;
    try {
      const url = new URL(raw, location.href);
      return url.protocol === "http:" || url.protocol === "https:" ? url.href : null;
    } catch (_) {
      return null;
    }
  }

  function parseDate(iso) {
    if (!iso) return null;
    const date = new Date(iso);
    return Number.isNaN(date.getTime()) ? null : date;
  }

  function relativeTime(iso) {
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

  function clockTime(iso) {
    const date = parseDate(iso);
    if (!date) return "";
    const sameDay = date.toDateString() === new Date().toDateString();
    const time = date.toLocaleTimeString([], { hour: "2-digit", minute: "2-digit" });
    return sameDay ? time : `${date.toLocaleDateString([], { month: "short", day: "numeric" })} ${time}`;
  }

  function contactLabel(conversation) {
    const c = (conversation && conversation.contact) || {};
    return c.name || c.email || (c.id !== undefined && c.id !== null ? `Visitor #${c.id}` : "Visitor");
  }

  function agentName() {
    return ui.agentName.value.trim() || "Agent";
  }

  // -- errors ------------------------------------------------------------------------

  let errorTimer = 0;
  function showError(text) {
    ui.error.textContent = text;
    ui.error.hidden = false;
    clearTimeout(errorTimer);
    errorTimer = setTimeout(() => {
      ui.error.hidden = true;
    }, ERROR_VISIBLE_MS);
  }

  class AuthError extends Error {}

  class ApiError extends Error {
    constructor(status, code, message) {
      super(message);
      this.status = status;
      this.code = code;
    }
  }

  // -- the API -----------------------------------------------------------------------

  async function api(method, path, body) {
    const headers = { Accept: "application/json" };
    if (method !== "GET" && state.token) headers["X-CSRF-Token"] = state.token;
    const init = { method, headers, cache: "no-store", credentials: "same-origin" };
    if (body !== undefined) {
      headers["Content-Type"] = "application/json";
      init.body = JSON.stringify(body);
    }
    let response;
    try {
      response = await fetch(apiBase + path, init);
    } catch (_) {
      throw new ApiError(0, "network", "The server cannot be reached. Retrying…");
    }
    if (response.status === 401) {
      toSignIn();
      throw new AuthError("unauthorised");
    }
    let data = null;
    try {
      data = await response.json();
    } catch (_) {
      data = null;
    }
    if (!response.ok) {
      const err = (data && data.error) || {};
      throw new ApiError(
        response.status,
        err.code || "http_error",
        err.message || `Request failed (${response.status}).`,
      );
    }
    return data || {};
  }

  function report(err) {
    if (err instanceof AuthError) return;
    showError(err && err.message ? err.message : "Something went wrong.");
  }

  // -- sign in / out -----------------------------------------------------------------

  function toSignIn() {
    stopPolling();
    state.token = null;
    const next = encodeURIComponent(location.pathname).replace(/%2F/g, "/");
    location.assign(`${root}/signin?next=${next}`);
  }

  async function signIn() {
    let me;
    try {
      me = await api("GET", "/me");
    } catch (err) {
      if (!(err instanceof AuthError)) report(err);
      return;
    }
    state.token = me.csrf_token || "";
    const role = me.agent.role || "agent";
    ui.agentName.value = me.agent.name;
    ui.agentName.readOnly = true;
    ui.login.hidden = true;
    ui.logout.hidden = false;
    ui.agentLabel.hidden = false;
    state.role = role;
    ui.nav.hidden = role !== "admin";
    const saved = storageGet("sessionStorage", VIEW_KEY);
    showView(role === "admin" && VIEWS.includes(saved) ? saved : "conversations");
  }

  function showView(view) {
    state.view = state.role === "admin" && VIEWS.includes(view) ? view : "conversations";
    storageSet("sessionStorage", VIEW_KEY, state.view);
    for (const button of ui.navButtons) {
      const active = button.dataset.view === state.view;
      button.classList.toggle("oc-active", active);
      if (active) button.setAttribute("aria-current", "page");
      else button.removeAttribute("aria-current");
    }
    ui.main.hidden = state.view !== "conversations";
    ui.articles.hidden = state.view !== "articles";
    ui.gaps.hidden = state.view !== "gaps";
    if (state.view === "conversations") selectTab(state.tab);
    else stopPolling(); // the conversation list is not on screen
    if (state.view === "articles") loadArticles().catch(report);
    if (state.view === "gaps") loadGaps().catch(report);
  }

  for (const button of ui.navButtons) {
    button.addEventListener("click", () => {
      if (button.dataset.view !== state.view && confirmDiscard()) showView(button.dataset.view);
    });
  }

  ui.logout.addEventListener("click", async () => {
    try {
      await api("POST", "/auth/logout", {});
    } catch (_) {
      /* signed out already */
    }
    toSignIn();
  });

  // -- polling -----------------------------------------------------------------------

  function stopPolling() {
    clearTimeout(state.pollTimer);
    state.pollTimer = 0;
  }

  function schedulePoll(delay = POLL_MS) {
    stopPolling();
    if (!state.token) return;
    state.pollTimer = setTimeout(poll, delay);
  }

  async function poll() {
    if (!state.token || state.view !== "conversations") return;
    if (document.visibilityState === "hidden") {
      schedulePoll(); // no point in refreshing a tab nobody looks at
      return;
    }
    if (state.polling) return;
    state.polling = true;
    try {
      await Promise.all([loadList(), state.selectedId !== null ? loadDetail() : null]);
    } catch (err) {
      report(err);
    } finally {
      state.polling = false;
      if (state.token) schedulePoll(state.refreshAgain ? 0 : POLL_MS);
      state.refreshAgain = false;
    }
  }

  /** Refresh at once; if a poll is in flight, run another right after it. */
  function refreshNow() {
    if (state.polling) {
      state.refreshAgain = true;
      return;
    }
    stopPolling();
    poll();
  }

  document.addEventListener("visibilitychange", () => {
    if (document.visibilityState === "visible" && state.token) refreshNow();
  });

  // -- the conversation list ---------------------------------------------------------

  function selectTab(tab) {
    state.tab = STATES.includes(tab) ? tab : "queued";
    storageSet("sessionStorage", TAB_KEY, state.tab);
    for (const button of ui.tabs) {
      const active = button.dataset.state === state.tab;
      button.classList.toggle("oc-active", active);
      button.setAttribute("aria-selected", String(active));
      button.tabIndex = active ? 0 : -1;
    }
    // A different list: drop the old rows at once rather than showing stale ones.
    ui.list.replaceChildren();
    state.listSignatures.clear();
    ui.empty.hidden = true;
    refreshNow();
  }

  for (const button of ui.tabs) {
    button.addEventListener("click", () => selectTab(button.dataset.state));
    button.addEventListener("keydown", (event) => {
      if (event.key !== "ArrowRight" && event.key !== "ArrowLeft") return;
      const i = ui.tabs.indexOf(button);
      const next = ui.tabs[(i + (event.key === "ArrowRight" ? 1 : ui.tabs.length - 1)) % ui.tabs.length];
      next.focus();
      selectTab(next.dataset.state);
    });
  }

  async function loadList() {
    const seq = ++state.listSeq;
    const tab = state.tab;
    const data = await api("GET", `/conversations?state=${encodeURIComponent(tab)}`);
    if (seq !== state.listSeq || tab !== state.tab) return; // a newer request won
    renderList(Array.isArray(data.conversations) ? data.conversations : []);
  }

  function buildConversationRow(conv) {
    const last = conv.last_message;
    const snippet = last
      ? `${last.author === "contact" ? "" : `${AUTHOR_LABELS[last.author] || last.author}: `}${last.text || ""}`
      : "No messages yet";
    const badges = el(
      "span",
      { class: "oc-badges" },
      el("span", { class: `oc-badge oc-state-${conv.state}`, text: conv.state || "" }),
      el("span", { class: "oc-badge oc-channel", text: conv.channel || "" }),
      conv.ticket && conv.ticket.priority
        ? el("span", {
            class: `oc-badge oc-priority oc-priority-${conv.ticket.priority}`,
            text: String(conv.ticket.priority),
          })
        : null,
    );
    return [
      el(
        "span",
        { class: "oc-conv-top" },
        el("span", { class: "oc-conv-name", text: contactLabel(conv) }),
        el("span", {
          class: "oc-conv-time",
          text: relativeTime(conv.updated_at),
          title: clockTime(conv.updated_at),
        }),
      ),
      conv.ticket && conv.ticket.subject
        ? el("span", { class: "oc-conv-subject", text: conv.ticket.subject })
        : null,
      el("span", { class: "oc-conv-snippet", text: snippet }),
      el(
        "span",
        { class: "oc-conv-bottom" },
        badges,
        conv.assignee ? el("span", { class: "oc-conv-assignee", text: conv.assignee }) : null,
      ),
    ].filter(Boolean);
  }

  function renderList(conversations) {
    const focusedId =
      document.activeElement && document.activeElement.classList.contains("oc-conv")
        ? document.activeElement.dataset.id
        : null;
    const existing = new Map();
    for (const button of ui.list.querySelectorAll(".oc-conv")) existing.set(button.dataset.id, button);

    const items = [];
    const seen = new Set();
    for (const conv of conversations) {
      if (!conv || conv.id === undefined || conv.id === null) continue;
      const id = String(conv.id);
      if (seen.has(id)) continue;
      seen.add(id);
      let button = existing.get(id);
      if (!button) {
        button = el("button", { type: "button", class: "oc-conv", "data-id": id });
        button.addEventListener("click", () => selectConversation(id));
      }
      // Relative times change too, so the signature includes the rendered time.
      const signature = JSON.stringify([conv, relativeTime(conv.updated_at)]);
      if (state.listSignatures.get(id) !== signature) {
        button.replaceChildren(...buildConversationRow(conv));
        button.setAttribute("aria-label", `${contactLabel(conv)}, ${conv.state}`);
        state.listSignatures.set(id, signature);
      }
      const selected = id === state.selectedId;
      button.classList.toggle("oc-selected", selected);
      if (selected) button.setAttribute("aria-current", "true");
      else button.removeAttribute("aria-current");
      items.push(button);
    }

    for (const [id, button] of existing) {
      if (!seen.has(id)) {
        button.closest("li").remove();
        state.listSignatures.delete(id);
      }
    }

    const currentOrder = Array.from(ui.list.querySelectorAll(".oc-conv"), (b) => b.dataset.id);
    const wantedOrder = items.map((b) => b.dataset.id);
    if (currentOrder.join(",") !== wantedOrder.join(",")) {
      ui.list.replaceChildren(
        ...items.map((button) => button.closest("li") || el("li", { class: "oc-conv-item" }, button)),
      );
      if (focusedId) {
        const again = ui.list.querySelector(`.oc-conv[data-id="${CSS.escape(focusedId)}"]`);
        if (again) again.focus({ preventScroll: true });
      }
    }
    ui.empty.hidden = items.length > 0;
  }

  // -- the selected conversation -----------------------------------------------------

  function selectConversation(id) {
    if (state.selectedId !== id) {
      state.selectedId = id;
      state.conversation = null;
      state.messageIds = [];
      ui.messages.replaceChildren();
      ui.reply.value = "";
    }
    for (const button of ui.list.querySelectorAll(".oc-conv")) {
      const selected = button.dataset.id === id;
      button.classList.toggle("oc-selected", selected);
      if (selected) button.setAttribute("aria-current", "true");
      else button.removeAttribute("aria-current");
    }
    ui.placeholder.hidden = true;
    ui.conversation.hidden = false;
    ui.contactName.textContent = "Loading…";
    ui.meta.replaceChildren();
    loadDetail().catch(report);
  }

  async function loadDetail() {
    const id = state.selectedId;
    if (id === null) return;
    const seq = ++state.detailSeq;
    let data;
    try {
      data = await api("GET", `/conversations/${encodeURIComponent(id)}`);
    } catch (err) {
      if (err instanceof ApiError && err.status === 404 && id === state.selectedId) {
        clearSelection();
        showError("That conversation no longer exists.");
        return;
      }
      throw err;
    }
    if (seq !== state.detailSeq || id !== state.selectedId) return;
    renderConversation(data.conversation);
    renderMessages(Array.isArray(data.messages) ? data.messages : []);
  }

  function clearSelection() {
    state.selectedId = null;
    state.conversation = null;
    state.messageIds = [];
    ui.messages.replaceChildren();
    ui.conversation.hidden = true;
    ui.placeholder.hidden = false;
  }

  function renderConversation(conv) {
    if (!conv) return;
    state.conversation = conv;
    ui.contactName.textContent = contactLabel(conv);
    const parts = [];
    const add = (label, value, cls) => {
      if (value === null || value === undefined || value === "") return;
      parts.push(
        el(
          "span",
          { class: `oc-meta-item ${cls || ""}`.trim() },
          el("span", { class: "oc-meta-label", text: label }),
          el("span", { class: "oc-meta-value", text: String(value) }),
        ),
      );
    };
    add("State", conv.state, `oc-state-${conv.state}`);
    add("Channel", conv.channel);
    add("Assignee", conv.assignee || "nobody");
    if (conv.contact && conv.contact.email && conv.contact.email !== contactLabel(conv)) {
      add("Email", conv.contact.email);
    }
    if (conv.ticket) {
      add("Ticket", `#${conv.ticket.id} · ${conv.ticket.state || ""}`.trim());
      add("Priority", conv.ticket.priority);
    }
    ui.meta.replaceChildren(...parts);

    const closed = conv.state === "resolved" || conv.state === "closed";
    const mine = conv.state === "assigned" && conv.assignee === agentName();
    ui.assign.disabled = state.busy || mine || conv.state === "closed";
    ui.assign.textContent = mine ? "Yours" : "Take";
    ui.resolve.disabled = state.busy || closed;
  }

  function buildMessage(msg) {
    const author = AUTHOR_LABELS[msg.author] ? msg.author : "system";
    const node = el("article", { class: `oc-msg oc-${author}`, "data-id": String(msg.id) });
    const who =
      author === "contact"
        ? contactLabel(state.conversation)
        : author === "agent"
          ? msg.author_name || "Agent"
          : AUTHOR_LABELS[author];
    const head = el(
      "header",
      { class: "oc-msg-head" },
      el("span", { class: "oc-msg-author", text: who }),
      el("time", { class: "oc-msg-time", text: clockTime(msg.created_at), datetime: msg.created_at || null }),
    );
    if (author === "bot" && typeof msg.confidence === "number") {
      head.append(
        el("span", { class: "oc-confidence", text: `confidence ${msg.confidence.toFixed(2)}` }),
      );
    }
    node.append(head, el("div", { class: "oc-msg-text", text: typeof msg.text === "string" ? msg.text : "" }));

    const citations = (Array.isArray(msg.citations) ? msg.citations : [])
      .map((c) => ({ href: safeHref(c && c.url), title: c && (c.title || c.slug) }))
      .filter((c) => c.href && c.title);
    if (citations.length) {
      const list = el("ul", { class: "oc-citations", "aria-label": "Sources" });
      for (const c of citations) {
        list.append(
          el(
            "li",
            {},
            el("a", { href: c.href, target: "_blank", rel: "noopener noreferrer", text: String(c.title) }),
          ),
        );
      }
      node.append(list);
    }
    const buttons = (Array.isArray(msg.buttons) ? msg.buttons : []).filter(
      (b) => b && typeof b.label === "string",
    );
    if (buttons.length) {
      const chips = el("div", { class: "oc-chips", "aria-label": "Offered buttons" });
      for (const b of buttons) chips.append(el("span", { class: "oc-chip", text: b.label }));
      node.append(chips);
    }
    return node;
  }

  function renderMessages(messages) {
    const valid = messages.filter((m) => m && m.id !== undefined && m.id !== null);
    const ids = valid.map((m) => String(m.id));
    const known = state.messageIds;
    const nearBottom =
      ui.messages.scrollHeight - ui.messages.scrollTop - ui.messages.clientHeight < 80;
    const isExtension = known.length <= ids.length && known.every((id, i) => ids[i] === id);
    if (!isExtension) {
      ui.messages.replaceChildren();
      state.messageIds = [];
    }
    const start = state.messageIds.length;
    const seen = new Set(state.messageIds);
    for (const msg of valid.slice(start)) {
      const id = String(msg.id);
      if (seen.has(id)) continue;
      seen.add(id);
      ui.messages.append(buildMessage(msg));
      state.messageIds.push(id);
    }
    if (!isExtension || start === 0 || nearBottom) {
      ui.messages.scrollTop = ui.messages.scrollHeight;
    }
  }

  function appendMessage(msg) {
    if (!msg || msg.id === undefined || msg.id === null) return;
    const id = String(msg.id);
    if (state.messageIds.includes(id)) return;
    ui.messages.append(buildMessage(msg));
    state.messageIds.push(id);
    ui.messages.scrollTop = ui.messages.scrollHeight;
  }

  // -- actions -----------------------------------------------------------------------

  function setBusy(busy) {
    state.busy = busy;
    ui.send.disabled = busy;
    if (state.conversation) renderConversation(state.conversation);
  }

  async function sendReply() {
    const id = state.selectedId;
    const text = ui.reply.value;
    if (id === null || !text.trim() || state.busy) return;
    setBusy(true);
    try {
      const data = await api("POST", `/conversations/${encodeURIComponent(id)}/messages`, {
        text,
        agent: agentName(),
      });
      if (id === state.selectedId) {
        ui.reply.value = "";
        appendMessage(data.message);
      }
      refreshNow();
    } catch (err) {
      report(err); // the text stays in the box so nothing is lost
    } finally {
      setBusy(false);
      ui.reply.focus();
    }
  }

  async function conversationAction(action, body) {
    const id = state.selectedId;
    if (id === null || state.busy) return;
    setBusy(true);
    try {
      const data = await api("POST", `/conversations/${encodeURIComponent(id)}/${action}`, body);
      if (id === state.selectedId && data.conversation) renderConversation(data.conversation);
      refreshNow();
    } catch (err) {
      report(err);
    } finally {
      setBusy(false);
    }
  }

  ui.composer.addEventListener("submit", (event) => {
    event.preventDefault();
    sendReply();
  });
  ui.reply.addEventListener("keydown", (event) => {
    if (event.key === "Enter" && !event.shiftKey && !event.isComposing && event.keyCode !== 229) {
      event.preventDefault();
      sendReply();
    }
  });
  ui.assign.addEventListener("click", () => conversationAction("assign", { agent: agentName() }));
  ui.resolve.addEventListener("click", () => conversationAction("resolve", { agent: agentName() }));

  // -- agent name ----------------------------------------------------------------------


  // == admin: articles ===================================================================

  const editor = {
    slug: null, // null while writing a new article
    version: null,
    status: "draft",
    dirty: false,
    previewTimer: 0,
    previewSeq: 0,
    listSeq: 0,
    busy: false,
  };
  let searchTimer = 0;

  function confirmDiscard() {
    if (!editor.dirty) return true;
    if (!window.confirm("Discard the unsaved changes to this article?")) return false;
    editor.dirty = false;
    return true;
  }

  function articleQuery() {
    const params = new URLSearchParams();
    if (ui.filterStatus.value) params.set("status", ui.filterStatus.value);
    if (ui.filterCategory.value) params.set("category", ui.filterCategory.value);
    const q = ui.articleSearch.value.trim();
    if (q) params.set("q", q);
    const text = params.toString();
    return text ? `?${text}` : "";
  }

  async function loadArticles() {
    const seq = ++editor.listSeq;
    const data = await api("GET", `/articles${articleQuery()}`);
    if (seq !== editor.listSeq) return;
    renderCategories(Array.isArray(data.categories) ? data.categories : []);
    renderArticleList(Array.isArray(data.articles) ? data.articles : []);
  }

  function renderCategories(categories) {
    const chosen = ui.filterCategory.value;
    ui.filterCategory.replaceChildren(
      el("option", { value: "", text: "All categories" }),
      ...categories.map((c) => el("option", { value: c, text: c })),
    );
    ui.filterCategory.value = categories.includes(chosen) ? chosen : "";
    ui.categories.replaceChildren(...categories.map((c) => el("option", { value: c })));
  }

  function renderArticleList(articles) {
    const rows = articles
      .filter((a) => a && typeof a.slug === "string")
      .map((a) => {
        const button = el(
          "button",
          { type: "button", class: "oc-article-row", "data-slug": a.slug },
          el("span", { class: "oc-article-row-title", text: a.title || a.slug }),
          el(
            "span",
            { class: "oc-badges" },
            el("span", { class: `oc-badge oc-status-${a.status}`, text: a.status || "" }),
            a.category ? el("span", { class: "oc-badge", text: a.category }) : null,
            el("span", { class: "oc-article-row-slug", text: a.slug }),
          ),
        );
        const selected = a.slug === editor.slug;
        button.classList.toggle("oc-selected", selected);
        if (selected) button.setAttribute("aria-current", "true");
        button.addEventListener("click", () => {
          if (a.slug !== editor.slug && confirmDiscard()) openArticle(a.slug).catch(report);
        });
        return el("li", {}, button);
      });
    ui.articleList.replaceChildren(...rows);
    ui.articleEmpty.hidden = rows.length > 0;
  }

  function markSelected() {
    for (const button of ui.articleList.querySelectorAll(".oc-article-row")) {
      const selected = button.dataset.slug === editor.slug;
      button.classList.toggle("oc-selected", selected);
      if (selected) button.setAttribute("aria-current", "true");
      else button.removeAttribute("aria-current");
    }
  }

  async function openArticle(slug) {
    const data = await api("GET", `/articles/${encodeURIComponent(slug)}`);
    fillEditor(data.article);
    await loadHistory();
  }

  function fillEditor(article) {
    const a = article || {};
    editor.slug = a.slug || null;
    editor.version = typeof a.version === "number" ? a.version : null;
    editor.status = a.status || "draft";
    ui.inTitle.value = a.title || "";
    ui.inSlug.value = a.slug || "";
    ui.inCategory.value = a.category || "";
    ui.inTags.value = Array.isArray(a.tags) ? a.tags.join(", ") : "";
    ui.inLanguage.value = a.language || "en";
    ui.inStatus.value = editor.status;
    ui.inBody.value = typeof a.body === "string" ? a.body : "";
    editor.dirty = false;
    renderEditorHead(a);
    ui.articlePlaceholder.hidden = true;
    ui.editor.hidden = false;
    if (!editor.slug) ui.historyList.replaceChildren();
    markSelected();
    schedulePreview(0);
  }

  function renderEditorHead(a) {
    ui.editorTitle.textContent = editor.slug ? a.title || editor.slug : "New article";
    const parts = [];
    const add = (label, value) => {
      if (value === null || value === undefined || value === "") return;
      parts.push(
        el(
          "span",
          { class: "oc-meta-item" },
          el("span", { class: "oc-meta-label", text: label }),
          el("span", { class: "oc-meta-value", text: String(value) }),
        ),
      );
    };
    if (editor.slug) {
      add("Status", a.status);
      add("Version", a.version);
      add("Updated", relativeTime(a.updated_at));
      add("By", a.updated_by);
    }
    ui.editorMeta.replaceChildren(...parts);
    const link = safeHref(a.url);
    if (editor.slug && a.status === "published" && link) {
      ui.editorMeta.append(
        el("a", { class: "oc-meta-item", href: link, target: "_blank", rel: "noopener noreferrer", text: "View page" }),
      );
    }
    ui.publish.textContent = editor.slug && editor.status === "published" ? "Unpublish" : "Publish";
    ui.remove.hidden = !editor.slug;
    setEditorBusy(editor.busy);
  }

  function setEditorBusy(busy) {
    editor.busy = busy;
    ui.save.disabled = busy;
    ui.publish.disabled = busy;
    ui.remove.disabled = busy;
  }

  function editorFields(status) {
    const fields = {
      title: ui.inTitle.value,
      category: ui.inCategory.value.trim() || null,
      tags: ui.inTags.value
        .split(",")
        .map((t) => t.trim())
        .filter(Boolean),
      language: ui.inLanguage.value.trim() || "en",
      status,
      body: ui.inBody.value,
    };
    const slug = ui.inSlug.value.trim();
    if (slug) fields.slug = slug;
    return fields;
  }

  async function saveArticle(status) {
    if (editor.busy) return;
    if (!ui.inTitle.value.trim()) {
      showError("Give the article a title.");
      ui.inTitle.focus();
      return;
    }
    setEditorBusy(true);
    try {
      const body = { ...editorFields(status), by: agentName() };
      let data;
      if (editor.slug) {
        body.version = editor.version;
        data = await api("PATCH", `/articles/${encodeURIComponent(editor.slug)}`, body);
      } else {
        data = await api("POST", "/articles", body);
      }
      fillEditor(data.article);
      await Promise.all([loadArticles(), loadHistory()]);
    } catch (err) {
      report(err); // the edits stay in the form so nothing is lost
    } finally {
      setEditorBusy(false);
    }
  }

  async function deleteArticle() {
    if (!editor.slug || editor.busy) return;
    if (!window.confirm(`Delete “${ui.inTitle.value || editor.slug}”? This cannot be undone.`)) return;
    setEditorBusy(true);
    try {
      await api("DELETE", `/articles/${encodeURIComponent(editor.slug)}`, { by: agentName() });
      editor.slug = null;
      editor.dirty = false;
      ui.editor.hidden = true;
      ui.articlePlaceholder.hidden = false;
      await loadArticles();
    } catch (err) {
      report(err);
    } finally {
      setEditorBusy(false);
    }
  }

  async function loadHistory() {
    const slug = editor.slug;
    if (!slug) return;
    const data = await api("GET", `/articles/${encodeURIComponent(slug)}/revisions`);
    if (slug !== editor.slug) return;
    const items = (Array.isArray(data.revisions) ? data.revisions : []).map((r) => {
      const changed = Array.isArray(r.changed) ? r.changed.join(", ") : "";
      return el(
        "li",
        { class: "oc-history-item", "data-version": String(r.version) },
        el("span", { class: "oc-history-version", text: `v${r.version}` }),
        el("span", { class: "oc-history-by", text: r.by || "unknown" }),
        el("time", { class: "oc-history-at", datetime: r.at || null, text: clockTime(r.at) }),
        el("span", { class: "oc-history-changed", text: changed }),
      );
    });
    ui.historyList.replaceChildren(...items);
  }

  // -- live preview: the server renders, so the preview is exactly the article page.

  function schedulePreview(delay = PREVIEW_DELAY_MS) {
    clearTimeout(editor.previewTimer);
    editor.previewTimer = setTimeout(() => renderPreview().catch(report), delay);
  }

  async function renderPreview() {
    const seq = ++editor.previewSeq;
    const body = ui.inBody.value;
    if (!body.trim()) {
      ui.preview.replaceChildren(el("p", { class: "oc-muted", text: "Nothing to preview yet." }));
      return;
    }
    const data = await api("POST", "/articles/preview", { body });
    if (seq !== editor.previewSeq) return; // a newer keystroke won
    // Safe: the server escapes raw HTML and refuses javascript: links.
    ui.preview.innerHTML = typeof data.html === "string" ? data.html : "";
  }

  for (const input of [ui.inTitle, ui.inSlug, ui.inCategory, ui.inTags, ui.inLanguage, ui.inStatus]) {
    input.addEventListener("input", () => {
      editor.dirty = true;
    });
  }
  ui.inBody.addEventListener("input", () => {
    editor.dirty = true;
    schedulePreview();
  });
  ui.editor.addEventListener("submit", (event) => {
    event.preventDefault();
    saveArticle(ui.inStatus.value);
  });
  ui.publish.addEventListener("click", () => {
    saveArticle(editor.slug && editor.status === "published" ? "draft" : "published");
  });
  ui.remove.addEventListener("click", deleteArticle);
  ui.newArticle.addEventListener("click", () => {
    if (!confirmDiscard()) return;
    fillEditor(null);
    ui.inTitle.focus();
  });
  ui.filterStatus.addEventListener("change", () => loadArticles().catch(report));
  ui.filterCategory.addEventListener("change", () => loadArticles().catch(report));
  ui.articleSearch.addEventListener("input", () => {
    clearTimeout(searchTimer);
    searchTimer = setTimeout(() => loadArticles().catch(report), PREVIEW_DELAY_MS);
  });
  window.addEventListener("beforeunload", (event) => {
    if (editor.dirty) event.preventDefault();
  });

  // -- evaluation --------------------------------------------------------------------

  function percent(value) {
    return typeof value === "number" ? `${(value * 100).toFixed(1)} %` : "–";
  }

  async function runEvaluation() {
    ui.evalPanel.hidden = false;
    ui.evaluate.disabled = true;
    ui.evalStatus.textContent = "Evaluating the sample questions…";
    ui.evalMetrics.replaceChildren();
    ui.evalCalibration.textContent = "";
    ui.evalMisses.replaceChildren();
    try {
      const { report: r } = await api("POST", "/kb/eval");
      ui.evalStatus.textContent = `${r.cases} questions`;
      const metric = (name, value) =>
        el(
          "div",
          { class: "oc-eval-metric" },
          el("dt", { text: name }),
          el("dd", { text: typeof value === "number" ? value.toFixed(3) : "–" }),
        );
      ui.evalMetrics.replaceChildren(
        metric("hit@1", r.hit_at_1),
        metric("hit@5", r.hit_at_5),
        metric("MRR", r.mrr),
      );
      let calibration =
        `Calibration: ${percent(r.answered)} answered (confidence ≥ ${Number(r.threshold).toFixed(2)}), ` +
        `${percent(r.answered_right)} of those right.`;
      if (r.clarified) {
        calibration += ` ${percent(r.clarified)} get “Did you mean…?”; ${percent(r.clarified_right)} of those offer the right article.`;
      }
      ui.evalCalibration.textContent = calibration;
      const misses = Array.isArray(r.misses) ? r.misses.slice(0, 10) : [];
      ui.evalMisses.replaceChildren(
        ...misses.map((m) =>
          el(
            "li",
            {},
            el("span", { class: "oc-miss-q", text: m.question }),
            el("span", {
              class: "oc-muted",
              text: ` — expected ${m.expected}, got ${m.got || "nothing"}${m.rank ? ` (rank ${m.rank})` : ""}`,
            }),
          ),
        ),
      );
    } catch (err) {
      ui.evalStatus.textContent = "";
      report(err);
    } finally {
      ui.evaluate.disabled = false;
    }
  }

  ui.evaluate.addEventListener("click", runEvaluation);
  ui.evalClose.addEventListener("click", () => {
    ui.evalPanel.hidden = true;
  });

  // == admin: gaps =======================================================================

  async function loadGaps() {
    ui.gapsStatus.textContent = "Loading…";
    const data = await api("GET", "/kb/gaps");
    const topics = Array.isArray(data.topics) ? data.topics : [];
    ui.gapsStatus.textContent = topics.length
      ? `${topics.length} ${topics.length === 1 ? "topic" : "topics"}, most asked first.`
      : "Nothing unanswered in this period.";
    ui.gapList.replaceChildren(...topics.map(buildTopic));
  }

  function buildTopic(topic) {
    const signals = topic.signals || {};
    const labels = { unanswered: "unsure", not_helpful: "not helpful", escalated: "handed off" };
    const badges = el(
      "span",
      { class: "oc-badges" },
      ...Object.keys(labels)
        .filter((k) => signals[k])
        .map((k) => el("span", { class: "oc-badge", text: `${labels[k]} ${signals[k]}` })),
    );
    const draft = el("button", { type: "button", class: "oc-draft oc-btn oc-btn-secondary", text: "Draft article" });
    draft.addEventListener("click", () => draftFromTopic(topic, draft));
    const examples = (Array.isArray(topic.examples) ? topic.examples : []).map((q) =>
      el("li", { text: q }),
    );
    return el(
      "li",
      { class: "oc-gap", "data-topic": topic.id },
      el(
        "header",
        { class: "oc-gap-head" },
        el("span", { class: "oc-gap-count", text: String(topic.count), title: "times asked" }),
        el("h3", { class: "oc-gap-title", text: topic.title }),
        draft,
      ),
      badges,
      el("ul", { class: "oc-gap-examples" }, ...examples),
      el("p", { class: "oc-muted", text: `last asked ${relativeTime(topic.last_seen)}` }),
    );
  }

  async function draftFromTopic(topic, button) {
    button.disabled = true;
    try {
      const data = await api("POST", "/kb/gaps/draft", { examples: topic.examples, by: agentName() });
      ui.filterStatus.value = "";
      showView("articles");
      fillEditor(data.article);
      await loadHistory();
    } catch (err) {
      report(err);
    } finally {
      button.disabled = false;
    }
  }

  ui.gapsRefresh.addEventListener("click", () => loadGaps().catch(report));

  // -- start -----------------------------------------------------------------------------

  signIn();
})();
