// The console's constants and its one mutable state (`state`, `ui`), shared by every module.
// Labels are English msgids (N_), translated with t() where they are shown (i18n.js).

import { N_ } from "./i18n.js";

export const API = "/console/api";
export const OUTCOMES = [
  ["resolved", N_("Resolved")],
  ["lead_accepted", N_("Lead accepted")],
  ["lead_rejected", N_("Lead rejected")],
  ["no_answer", N_("No answer")],
  ["spam", N_("Spam")],
  ["other", N_("Other")]
];
export const VERDICTS = { lead_accepted: "accept", lead_rejected: "reject" };
export const SENDERS = ["visitor", "bot", "agent", "system"];
export const AUTHORS = { visitor: N_("Visitor"), bot: N_("Bot"), agent: N_("Agent"), system: N_("System") };
export const STATE_TITLES = {
  waiting: N_("waiting for a person"),
  human: N_("a person has the conversation"),
  bot: N_("back with the bot"),
  closed: N_("closed")
};
// The names of the server's codes, as the console shows them.
export const STATE_NAMES = { waiting: N_("waiting"), human: N_("human"), bot: N_("bot"), closed: N_("closed") };
export const REASONS = {
  visitor_asked: N_("The visitor asked for a person"),
  out_of_scope: N_("A question outside what the bot covers; the visitor accepted a person"),
  out_of_depth: N_("A question deeper than the bot's content; the visitor accepted a person"),
  not_understood: N_("The bot did not understand twice in a row"),
  sales_ready: N_("A qualified lead, ready for sales"),
  rule: N_("A handoff rule held")
};
export const NEEDS = { sales: N_("sales"), service: N_("service") };
// Lifecycle stages (crm_adapter/lifecycle.py).
export const STAGE_NAMES = {
  subscriber: N_("subscriber"),
  lead: N_("lead"),
  marketing_qualified_lead: N_("marketing qualified lead (MQL)"),
  sales_qualified_lead: N_("sales qualified lead (SQL)"),
  opportunity: N_("opportunity"),
  customer: N_("customer"),
  evangelist: N_("evangelist")
};
export const OUTCOME_NAMES = {
  resolved: N_("Resolved"),
  lead_accepted: N_("Lead accepted"),
  lead_rejected: N_("Lead rejected"),
  no_answer: N_("No answer"),
  spam: N_("Spam"),
  other: N_("Other"),
  cancelled: N_("cancelled by the visitor"),
  timed_out: N_("nobody was free in time"),
  handed_back: N_("handed back to the bot")
};
export const EVENT_NAMES = {
  request: N_("requested"),
  claim: N_("claimed"),
  transfer: N_("transferred"),
  cancel: N_("cancelled by the visitor"),
  timeout: N_("timed out"),
  hand_back: N_("handed back to the bot"),
  close: N_("closed"),
  message: N_("message"),
  note: N_("note")
};
export const MAX_RETRY_MS = 30000;

export const state = {
  me: null,
  csrf: "",
  queue: null,
  queueAt: 0,
  openId: null,
  detail: null,
  detailAt: 0,
  source: null,
  retry: 0,
  retryTimer: null,
  ticker: null,
  statusTimer: null,
  running: false,
  dirty: false,
  generation: 0,
  presencePending: false,
  users: null
};
// The open conversation's elements (buildConversation), the admin's users and data
// protection panels (buildUsersPanel, buildPrivacyPanel).
export const ui = { conv: null, usersPanel: null, privacyPanel: null };
