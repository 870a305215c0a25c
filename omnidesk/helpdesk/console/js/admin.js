/*
 * The settings views, as one unit for main.js: those that run the team (agents, teams,
 * handoff rules, SLA and business hours, the audit log, reports, webhooks, contacts as
 * CSV; admins only,
 * and the server refuses agents on every route behind them) and "My account" (everyone).
 * Their names, which page section
 * each shows, and what to load when one opens.
 */
import { report } from "./api.js";
import { $$ } from "./dom.js";
import * as account from "./account.js";
import * as agents from "./admin_agents.js";
import * as audit from "./admin_audit.js";
import * as calendars from "./admin_calendars.js";
import * as contactsCsv from "./admin_contacts_csv.js";
import * as reports from "./admin_reports.js";
import * as rules from "./admin_rules.js";
import * as sla from "./admin_sla.js";
import * as teams from "./admin_teams.js";
import * as webhooks from "./admin_webhooks.js";

const PARTS = {
  agents: [agents],
  teams: [teams],
  rules: [rules],
  sla: [sla, calendars],
  audit: [audit],
  reports: [reports],
  webhooks: [webhooks],
  contacts_csv: [contactsCsv],
  account: [account],
};

/** The admins' views, as the nav buttons' data-view. */
export const VIEWS = ["agents", "teams", "rules", "sla", "audit", "reports", "webhooks", "contacts_csv"];
/** The views everyone signed in may open. */
export const OPEN_VIEWS = ["account"];

export function init() {
  for (const modules of Object.values(PARTS)) for (const module of modules) module.init();
}

/** Show the section of ``view`` (none when it is not one of these) and load it. */
export function show(view) {
  for (const section of $$(".oc-admin[data-view]")) section.hidden = section.dataset.view !== view;
  for (const module of PARTS[view] || []) module.load().catch(report);
}
