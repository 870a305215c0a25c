/*
 * Admin: contacts in and out as CSV. "Import" sends the chosen file; the server queues
 * the import and its worker runs it, and this view follows it (polling the import) with
 * a progress bar, the counts and the rows that failed with their reasons. "Export"
 * downloads every contact, or those with a tag or matching a search, as CSV.
 */
import { api, download, report } from "./api.js";
import { $, el, storageGet, storageSet } from "./dom.js";
import { formError, submitting } from "./admin_kit.js";

const POLL_MS = 400;
const LAST_KEY = "omnidesk.contacts_import";
const MAX_BYTES = 10 * 1024 * 1024;

const ui = {
  form: $(".oc-csv-form"),
  file: $(".oc-csv-file"),
  job: $(".oc-csv-job"),
  title: $(".oc-csv-job-title"),
  progress: $(".oc-csv-progress"),
  status: $(".oc-csv-status"),
  errorsTable: $(".oc-csv-errors-table"),
  errors: $(".oc-csv-errors"),
  more: $(".oc-csv-errors-more"),
  exportForm: $(".oc-csv-export"),
  tag: $(".oc-csv-tag"),
  q: $(".oc-csv-q"),
};

const view = { watching: null, timer: 0 };

export async function load() {
  const last = Number(storageGet("sessionStorage", LAST_KEY));
  if (last && view.watching === null) await follow(last);
}

async function upload() {
  const file = ui.file.files && ui.file.files[0];
  let started = null;
  const done = await submitting(ui.form, async () => {
    if (!file) throw new Error("Choose a CSV file first.");
    if (file.size > MAX_BYTES) throw new Error("The file is larger than 10 MiB; split it.");
    const name = encodeURIComponent(file.name.slice(0, 255));
    started = await api("POST", `/contacts/imports?filename=${name}`, file);
  });
  if (!done || !started) return;
  const ignored = (started.columns && started.columns.ignored) || [];
  if (ignored.length) formError(ui.form, `Columns ignored: ${ignored.join(", ")}`);
  ui.file.value = "";
  storageSet("sessionStorage", LAST_KEY, String(started.import.id));
  await follow(started.import.id);
}

async function follow(importId) {
  clearTimeout(view.timer);
  view.watching = importId;
  let data;
  try {
    data = await api("GET", `/contacts/imports/${importId}`);
  } catch (err) {
    if (err.status === 404) {
      view.watching = null;
      ui.job.hidden = true;
      return;
    }
    throw err;
  }
  if (view.watching !== importId) return;
  show(data);
  const status = data.import.status;
  if (status === "queued" || status === "running") {
    view.timer = setTimeout(() => follow(importId).catch(report), POLL_MS);
  }
}

function show(data) {
  const job = data.import;
  ui.job.hidden = false;
  ui.job.dataset.status = job.status;
  ui.title.textContent = `Import of ${job.filename || "a file"}`;
  ui.progress.max = Math.max(job.total, 1);
  ui.progress.value = job.processed;
  const percent = job.total ? Math.floor((100 * job.processed) / job.total) : 100;
  ui.progress.textContent = `${percent}%`;
  const counts = `${job.created} created, ${job.updated} updated, ${job.unchanged} unchanged, ${job.failed} failed`;
  const state = { queued: "Waiting to start", running: "Importing", done: "Done", failed: "Stopped" }[job.status] || job.status;
  ui.status.textContent = `${state}: ${job.processed} of ${job.total} rows (${percent}%) · ${counts}${job.error ? ` · ${job.error}` : ""}`;
  const errors = Array.isArray(data.errors) ? data.errors : [];
  ui.errors.replaceChildren(
    ...errors.map((error) =>
      el(
        "tr",
        { class: "oc-csv-error-row" },
        el("td", { text: String(error.row) }),
        el("td", { text: error.reason }),
        el("td", {}, el("code", { text: error.raw })),
      ),
    ),
  );
  ui.errorsTable.hidden = errors.length === 0;
  const hidden = (data.errors_total || 0) - errors.length;
  ui.more.hidden = hidden <= 0;
  ui.more.textContent = hidden > 0 ? `… and ${hidden} more rows failed.` : "";
}

async function exportCsv() {
  const params = new URLSearchParams();
  if (ui.tag.value.trim()) params.set("tag", ui.tag.value.trim());
  if (ui.q.value.trim()) params.set("q", ui.q.value.trim());
  const query = params.toString();
  await submitting(ui.exportForm, () => download(`/contacts/export.csv${query ? `?${query}` : ""}`, "contacts.csv"));
}

export function init() {
  ui.form.addEventListener("submit", (event) => {
    event.preventDefault();
    upload().catch(report);
  });
  ui.exportForm.addEventListener("submit", (event) => {
    event.preventDefault();
    exportCsv().catch(report);
  });
}
