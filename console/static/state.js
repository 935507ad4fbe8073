// The console's constants and its one mutable state (`state`, `ui`), shared by every module.

export const API = "/console/api";
export const OUTCOMES = [
  ["resolved", "Resolved"],
  ["lead_accepted", "Lead accepted"],
  ["lead_rejected", "Lead rejected"],
  ["no_answer", "No answer"],
  ["spam", "Spam"],
  ["other", "Other"]
];
export const VERDICTS = { lead_accepted: "accept", lead_rejected: "reject" };
export const SENDERS = ["visitor", "bot", "agent", "system"];
export const AUTHORS = { visitor: "Visitor", bot: "Bot", agent: "Agent", system: "System" };
export const STATE_TITLES = {
  waiting: "waiting for a person",
  human: "a person has the conversation",
  bot: "back with the bot",
  closed: "closed"
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
