/*
 * Admin: what the bot could not answer, grouped by topic, each a draft in one click.
 */
import { api, auth, report } from "./api.js";
import { $, el, fire, relativeTime } from "./dom.js";
import { fillEditor, loadHistory } from "./articles.js";

const ui = {
  gapsRefresh: $(".oc-gaps-refresh"),
  gapsStatus: $(".oc-gaps-status"),
  gapList: $(".oc-gap-list"),
  filterStatus: $(".oc-filter-status"),
};

export async function loadGaps() {
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
    const data = await api("POST", "/kb/gaps/draft", { examples: topic.examples, by: auth.agent.name });
    ui.filterStatus.value = "";
    fire("nav", "articles");
    fillEditor(data.article);
    await loadHistory();
  } catch (err) {
    report(err);
  } finally {
    button.disabled = false;
  }
}

export function init() {
  ui.gapsRefresh.addEventListener("click", () => loadGaps().catch(report));
}
