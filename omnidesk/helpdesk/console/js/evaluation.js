/*
 * Admin: the retrieval evaluation on the sample questions, run from the console.
 */
import { api, report } from "./api.js";
import { $, el } from "./dom.js";

const ui = {
  evaluate: $(".oc-evaluate"),
  evalPanel: $(".oc-eval"),
  evalClose: $(".oc-eval-close"),
  evalStatus: $(".oc-eval-status"),
  evalMetrics: $(".oc-eval-metrics"),
  evalCalibration: $(".oc-eval-calibration"),
  evalMisses: $(".oc-eval-misses"),
};

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

export function init() {
  ui.evaluate.addEventListener("click", runEvaluation);
  ui.evalClose.addEventListener("click", () => {
    ui.evalPanel.hidden = true;
  });
}
