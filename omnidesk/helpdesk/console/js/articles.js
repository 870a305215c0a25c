/*
 * Admin: the articles the bot answers from. A filtered list, an editor with the
 * server's live preview (safe HTML: the server escapes raw HTML), version history.
 */
import { api, auth, report } from "./api.js";
import { $, clockTime, el, relativeTime, safeHref, showError } from "./dom.js";

const PREVIEW_DELAY_MS = 300;

const ui = {
  articleSearch: $(".oc-article-search"),
  filterStatus: $(".oc-filter-status"),
  filterCategory: $(".oc-filter-category"),
  newArticle: $(".oc-new-article"),
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
};

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

export function confirmDiscard() {
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

export async function loadArticles() {
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

export function fillEditor(article) {
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
    const body = { ...editorFields(status), by: auth.agent.name };
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
    await api("DELETE", `/articles/${encodeURIComponent(editor.slug)}`, { by: auth.agent.name });
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

export async function loadHistory() {
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

export function init() {
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
}
