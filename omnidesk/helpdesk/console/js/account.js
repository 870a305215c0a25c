/*
 * My account, for everyone signed in: change one's password (the other sessions end)
 * and make or revoke personal API tokens. A new token's secret is shown once, in a
 * read-only field, and never again: the server keeps only its hash.
 */
import { api, report } from "./api.js";
import { $, clockTime, el, fire } from "./dom.js";
import { badge, confirmThen, rowButton, submitting } from "./admin_kit.js";

const ui = {
  passwordForm: $(".oc-password-form"),
  current: $(".oc-password-current"),
  fresh: $(".oc-password-new"),
  again: $(".oc-password-again"),
  passwordDone: $(".oc-password-done"),
  tokenForm: $(".oc-token-form"),
  tokenName: $(".oc-token-name"),
  secretBox: $(".oc-token-secret-box"),
  secret: $(".oc-token-secret"),
  close: $(".oc-account-close"),
  rows: $(".oc-token-rows"),
  empty: $(".oc-token-empty"),
};

export async function load() {
  ui.secretBox.hidden = true;
  ui.secret.value = "";
  await loadTokens();
}

async function loadTokens() {
  const data = await api("GET", "/me/tokens");
  const tokens = Array.isArray(data.tokens) ? data.tokens : [];
  ui.rows.replaceChildren(...tokens.map(item));
  ui.empty.hidden = tokens.length > 0;
}

function item(token) {
  const used = token.last_used_at ? `last used ${clockTime(token.last_used_at)}` : "never used";
  return el(
    "li",
    { class: `oc-admin-item oc-token-row${token.revoked_at ? " oc-off" : ""}`, "data-id": String(token.id) },
    el(
      "div",
      { class: "oc-admin-item-main" },
      el("h3", { class: "oc-token-row-name", text: token.name }),
      token.revoked_at ? badge("revoked", "oc-disabled") : badge("active"),
      el("p", { class: "oc-muted", text: `${token.prefix}… · made ${clockTime(token.created_at)} · ${used}` }),
    ),
    token.revoked_at
      ? null
      : el(
          "div",
          { class: "oc-row-actions" },
          rowButton("Revoke", `Revoke token ${token.name}`, () => revoke(token), true),
        ),
  );
}

async function changePassword() {
  ui.passwordDone.hidden = true;
  const done = await submitting(ui.passwordForm, async () => {
    if (ui.fresh.value !== ui.again.value) throw new Error("The new passwords differ.");
    await api("POST", "/me/password", { current: ui.current.value, new: ui.fresh.value });
  });
  if (!done) return;
  for (const input of [ui.current, ui.fresh, ui.again]) input.value = "";
  ui.passwordDone.hidden = false;
}

async function createToken() {
  const name = ui.tokenName.value.trim();
  const done = await submitting(ui.tokenForm, async () => {
    if (!name) throw new Error("Name the token after what will use it.");
    const data = await api("POST", "/me/tokens", { name });
    ui.secret.value = data.secret || "";
  });
  if (!done) return;
  ui.tokenName.value = "";
  ui.secretBox.hidden = false;
  ui.secret.focus();
  ui.secret.select();
  await loadTokens().catch(report);
}

function revoke(token) {
  return confirmThen(`Revoke token ${token.name}? Scripts using it stop working.`, async () => {
    await api("DELETE", `/me/tokens/${token.id}`);
    await loadTokens();
  });
}

export function init() {
  ui.close.addEventListener("click", () => fire("nav", "conversations"));
  ui.passwordForm.addEventListener("submit", (event) => {
    event.preventDefault();
    changePassword();
  });
  ui.tokenForm.addEventListener("submit", (event) => {
    event.preventDefault();
    createToken();
  });
}
