/*
 * Admin: reports. Filters (dates, per day/week/month, team, agent, channel, label) ask
 * /api/v1/reports/overview and /topics; the figures show as charts (Chart.js, served from
 * /console/vendor, loaded the first time the view opens) and, for every chart, as text:
 * the totals and the table per period. "Export CSV" saves the same rows. The NPS chart
 * and figures show only when the server reports the NPS survey on.
 */
import { api, download, report } from "./api.js";
import { $, $$, el, safeHref } from "./dom.js";
import { fillSelect } from "./admin_kit.js";

const CHART_JS = "/console/vendor/chart.umd.min.js";
const COLORS = ["#2563eb", "#16a34a", "#d97706", "#9333ea", "#dc2626", "#0891b2"];

const ui = {
  form: $(".oc-reports-filters"),
  from: $(".oc-reports-from"),
  to: $(".oc-reports-to"),
  group: $(".oc-reports-group"),
  team: $(".oc-reports-team"),
  agent: $(".oc-reports-agent"),
  channel: $(".oc-reports-channel"),
  label: $(".oc-reports-label"),
  status: $(".oc-reports-status"),
  totals: $(".oc-reports-totals"),
  rows: $(".oc-reports-rows"),
  topics: $(".oc-reports-topics"),
  articles: $(".oc-reports-articles"),
  export: $(".oc-reports-export"),
  canvases: {
    volume: $(".oc-reports-volume"),
    rates: $(".oc-reports-rates"),
    times: $(".oc-reports-times"),
    csat: $(".oc-reports-csat"),
    nps: $(".oc-reports-nps"),
  },
  npsFigure: $(".oc-reports-nps-figure"),
};

const charts = {};
let library = null;
// Each show() takes a number; only the latest asked for is drawn, so a slow answer to
// older filters never replaces a newer one.
let latest = 0;

/** Chart.js, added to the page once; resolves to its global. */
function loadChartJs() {
  if (window.Chart) return Promise.resolve(window.Chart);
  library ??= new Promise((resolve, reject) => {
    const script = el("script", { src: CHART_JS });
    script.addEventListener("load", () => resolve(window.Chart));
    script.addEventListener("error", () => reject(new Error("The charting library did not load.")));
    document.head.append(script);
  });
  return library;
}

function isoDay(date) {
  const pad = (n) => String(n).padStart(2, "0");
  return `${date.getFullYear()}-${pad(date.getMonth() + 1)}-${pad(date.getDate())}`;
}

export function init() {
  const today = new Date();
  const start = new Date(today);
  start.setDate(start.getDate() - 29);
  ui.from.value = isoDay(start);
  ui.to.value = isoDay(today);
  ui.form.addEventListener("submit", (event) => {
    event.preventDefault();
    show().catch(report);
  });
  ui.export.addEventListener("click", () =>
    download(`/reports/overview.csv?${filters()}`, `report-${ui.group.value}.csv`).catch(report),
  );
}

export async function load() {
  const [teams, agents] = await Promise.all([api("GET", "/teams"), api("GET", "/agents")]);
  fillSelect(ui.team, [["", "All teams"], ...(teams.teams || []).map((t) => [t.id, t.name])], ui.team.value);
  fillSelect(ui.agent, [["", "Everyone"], ...(agents.agents || []).map((a) => [a.id, a.name])], ui.agent.value);
  await show();
}

/** The query string of the chosen filters, in the browser's time zone. */
function filters() {
  const query = new URLSearchParams({ from: ui.from.value, to: ui.to.value, group: ui.group.value });
  const zone = Intl.DateTimeFormat().resolvedOptions().timeZone;
  if (zone) query.set("tz", zone);
  for (const [name, input] of [["team", ui.team], ["agent", ui.agent], ["channel", ui.channel], ["label", ui.label]]) {
    if (input.value.trim()) query.set(name, input.value.trim());
  }
  return query.toString();
}

async function show() {
  const mine = ++latest;
  ui.status.textContent = "Loading…";
  const query = filters();
  const [overview, topics, Chart] = await Promise.all([
    api("GET", `/reports/overview?${query}`),
    api("GET", `/reports/topics?${query}`),
    loadChartJs(),
  ]);
  if (mine !== latest) return;
  renderTotals(overview.totals, overview.nps);
  renderTable(overview.rows);
  renderCharts(Chart, overview);
  renderTopics(topics);
  ui.status.textContent = overview.totals.conversations ? "" : "No conversations in this range.";
}

const percent = (value) => (value === null || value === undefined ? "–" : `${Math.round(value * 100)} %`);
const number = (value) => (value === null || value === undefined ? "–" : String(value));

const spread = (distribution) => Object.entries(distribution).map(([s, n]) => `${s}: ${n}`).join(", ");

function renderTotals(t, nps) {
  const items = [
    ["Conversations", number(t.conversations)],
    ["Messages", `${t.messages.contact} customer, ${t.messages.bot} bot, ${t.messages.agent} agent`],
    ["Bot-resolved", `${percent(t.deflection.share)} (${t.deflection.confirmed} confirmed, ${t.deflection.assumed} assumed)`],
    ["Handoffs", Object.entries(t.handoffs).map(([why, n]) => `${why} ${n}`).join(", ") || "none"],
    ["First response, median", `${number(t.first_response_minutes.median)} business min`],
    ["Resolution, median", `${number(t.resolution_minutes.median)} business min`],
    ["SLA first response", percent(t.sla.first_response.attainment)],
    ["SLA resolution", percent(t.sla.resolution.attainment)],
    ["CSAT", `${number(t.csat.average)} average, ${t.csat.rated} ratings, ${percent(t.csat.response_rate)} answered (${spread(t.csat.distribution)})`],
  ];
  if (nps?.enabled) {
    items.push([
      "NPS",
      `${number(nps.score)} (${nps.promoters} promoters, ${nps.passives} passives, ${nps.detractors} detractors; ` +
        `${nps.answered} of ${nps.sent} answered, ${percent(nps.response_rate)}) (${spread(nps.distribution)})`,
    ]);
  }
  ui.totals.replaceChildren(...items.flatMap(([term, value]) => [el("dt", { text: term }), el("dd", { text: value })]));
}

function renderTable(rows) {
  ui.rows.replaceChildren(
    ...rows.map((r) =>
      el(
        "tr",
        { class: "oc-reports-row", "data-key": r.key },
        el("th", { scope: "row", text: r.key }),
        el("td", { text: number(r.conversations) }),
        el("td", { text: `${r.messages.contact} / ${r.messages.bot} / ${r.messages.agent}` }),
        el("td", { text: `${percent(r.deflection.share)} (${r.deflection.confirmed} + ${r.deflection.assumed})` }),
        el("td", { text: number(r.handoffs_total) }),
        el("td", { text: number(r.first_response_minutes.median) }),
        el("td", { text: number(r.resolution_minutes.median) }),
        el("td", { text: percent(r.sla.first_response.attainment) }),
        el("td", { text: percent(r.sla.resolution.attainment) }),
        el("td", { text: number(r.csat.average) }),
      ),
    ),
  );
}

function draw(Chart, name, config) {
  charts[name]?.destroy();
  const options = { animation: false, responsive: true, maintainAspectRatio: false, ...config.options };
  charts[name] = new Chart(ui.canvases[name], { ...config, options });
}

function line(label, data, color, extra = {}) {
  return { label, data, borderColor: color, backgroundColor: color, spanGaps: true, ...extra };
}

function renderCharts(Chart, overview) {
  const rows = overview.rows;
  const labels = rows.map((r) => r.key);
  draw(Chart, "volume", {
    type: "bar",
    data: {
      labels,
      datasets: [
        line("Conversations", rows.map((r) => r.conversations), COLORS[0]),
        line("Customer messages", rows.map((r) => r.messages.contact), COLORS[1]),
        line("Agent messages", rows.map((r) => r.messages.agent), COLORS[2]),
      ],
    },
  });
  const share = (value) => (value === null ? null : Math.round(value * 1000) / 10);
  draw(Chart, "rates", {
    type: "line",
    data: {
      labels,
      datasets: [
        line("Bot-resolved %", rows.map((r) => share(r.deflection.share)), COLORS[0]),
        line("SLA first response %", rows.map((r) => share(r.sla.first_response.attainment)), COLORS[1]),
        line("SLA resolution %", rows.map((r) => share(r.sla.resolution.attainment)), COLORS[3]),
      ],
    },
    options: { scales: { y: { min: 0, max: 100 } } },
  });
  draw(Chart, "times", {
    type: "line",
    data: {
      labels,
      datasets: [
        line("First response", rows.map((r) => r.first_response_minutes.median), COLORS[2]),
        line("Resolution", rows.map((r) => r.resolution_minutes.median), COLORS[4]),
      ],
    },
  });
  const scores = overview.totals.csat.distribution;
  draw(Chart, "csat", {
    type: "bar",
    data: {
      labels: Object.keys(scores),
      datasets: [{ label: "Ratings", data: Object.values(scores), backgroundColor: COLORS.slice(0, 5) }],
    },
    options: { plugins: { legend: { display: false } } },
  });
  renderNps(Chart, overview.nps);
}

/** The NPS answers by score, coloured detractor / passive / promoter; only when on. */
function renderNps(Chart, nps) {
  ui.npsFigure.hidden = !nps?.enabled;
  if (!nps?.enabled) {
    charts.nps?.destroy();
    delete charts.nps;
    return;
  }
  const colour = (score) => (score >= 9 ? COLORS[1] : score >= 7 ? "#9ca3af" : COLORS[4]);
  draw(Chart, "nps", {
    type: "bar",
    data: {
      labels: Object.keys(nps.distribution),
      datasets: [{ label: "Answers", data: Object.values(nps.distribution), backgroundColor: Object.keys(nps.distribution).map((s) => colour(Number(s))) }],
    },
    options: { plugins: { legend: { display: false } } },
  });
}

function renderTopics(data) {
  const openGaps = () => $$(".oc-nav-btn[data-view='gaps']")[0]?.click();
  ui.topics.replaceChildren(
    ...(data.topics || []).map((t) =>
      el(
        "li",
        { class: "oc-reports-topic", "data-topic": t.id },
        el("span", { text: `${t.title} (${t.count})` }),
        " ",
        button("Open in Gaps", openGaps),
      ),
    ),
  );
  if (!ui.topics.children.length) ui.topics.append(el("li", { class: "oc-muted", text: "Nothing went unanswered." }));
  ui.articles.replaceChildren(
    ...(data.articles || []).map((a) =>
      el(
        "li",
        { class: "oc-reports-article" },
        el("a", { href: safeHref(a.url) || "#", text: a.title, target: "_blank", rel: "noopener" }),
        el("span", { text: ` (${a.handoffs} handoffs)` }),
      ),
    ),
  );
  if (!ui.articles.children.length) ui.articles.append(el("li", { class: "oc-muted", text: "No handoff followed an answer." }));
}

function button(text, onClick) {
  const node = el("button", { type: "button", class: "oc-btn oc-btn-ghost", text });
  node.addEventListener("click", onClick);
  return node;
}
