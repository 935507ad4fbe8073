// The open conversation: head, transcript, notes, history.

import {
  addNote,
  onClaim,
  onClose,
  onHandBack,
  onTransfer,
  sendReply,
  updateTransferTargets
} from "./actions.js";
import { api, errorText } from "./api.js";
import { attachCanned } from "./canned.js";
import { labelShortcuts } from "./keyboard.js";
import { attachLive, renderLive } from "./live.js";
import { refresh, setStatus } from "./console.js";
import {
  $,
  badge,
  button,
  clear,
  clock,
  dateTime,
  el,
  isMine,
  option,
  orDash,
  routedTo,
  stageName
} from "./dom.js";
import { renderLead } from "./lead_card.js";
import { markActive } from "./queue.js";
import { buildSummary, renderSummary } from "./summary.js";
import { N_, matchTemplate, t, translateText } from "./i18n.js";
import {
  AUTHORS,
  EVENT_NAMES,
  NEEDS,
  OUTCOME_NAMES,
  OUTCOMES,
  REASONS,
  SENDERS,
  STATE_NAMES,
  VERDICTS,
  state,
  ui
} from "./state.js";

// -- the open conversation ----------------------------------------------------------

export function openConversation(id) {
  if (!state.me || !isFinite(id)) return;
  if (state.openId === id && ui.conv) {
    refresh();
    return;
  }
  state.openId = id;
  state.detail = null;
  setStatus("");
  buildConversation(id);
  markActive();
  try {
    window.history.replaceState(null, "", "#handoff-" + id);
  } catch (e) { /* the address only remembers the conversation for a reload */ }
  refresh();
}

export function conversationGone(result) {
  var id = state.openId;
  state.openId = null;
  state.detail = null;
  ui.conv = null;
  var root = $("conversation");
  clear(root);
  root.appendChild(el("p", { cls: "placeholder" }, [
    document.createTextNode(t("Conversation #{id} is not open to you any more:", { id: id }) + " "),
    el("span", { text: errorText(result, t("it cannot be shown")) })
  ]));
  markActive();
  try {
    window.history.replaceState(null, "", "#");
  } catch (e) { /* see openConversation */ }
}

export async function loadDetail(id) {
  var generation = state.generation;
  var result = await api("GET", "/handoffs/" + id);
  if (result.stale || generation !== state.generation || state.openId !== id || !ui.conv) return;
  if (result.status === 401) return;
  if (result.status === 403 || result.status === 404) {
    conversationGone(result);
    return;
  }
  if (!result.ok) {
    ui.conv.problem.textContent = errorText(result, t("The conversation could not be loaded"));
    ui.conv.problem.hidden = false;
    return;
  }
  ui.conv.problem.hidden = true;
  state.detail = result.data;
  state.detailAt = Date.now();
  renderDetail();
}

export function buildConversation(id) {
  var root = $("conversation");
  clear(root);
  var c = { id: id, groupsKey: null, transcriptKey: null, notesKey: null, forceScroll: false, answerRows: {}, answerOrder: "" };

  c.title = el("h2", { cls: "conv-title", text: t("Conversation #{id}", { id: id }) });
  c.stateBadge = el("span");
  c.summary = buildSummary();
  c.info = el("dl", { id: "handoff-info", cls: "facts" });
  c.rule = el("p", { id: "routing-rule", cls: "rule" });
  c.explanation = el("ul", { id: "routing-explanation", cls: "explanation" });
  c.problem = el("p", { id: "conversation-error", cls: "error" });
  c.problem.hidden = true;
  c.actions = el("div", { id: "actions", cls: "actions" });
  c.ownerNote = el("p", { id: "owner-note", cls: "muted" });

  // Action controls are made once and attached only when they apply, so text being
  // typed survives live updates.
  c.claim = button(t("Claim"), "claim", "primary");
  c.claim.addEventListener("click", onClaim);

  c.handBack = button(t("Hand back to bot"), "hand-back");
  c.handBack.addEventListener("click", onHandBack);

  c.transferTarget = el("select", { id: "transfer-target", attrs: { "aria-label": t("Transfer to") } });
  c.transfer = button(t("Transfer"), "transfer");
  c.transfer.addEventListener("click", onTransfer);

  c.closeOutcome = el("select", { id: "close-outcome", attrs: { "aria-label": t("Outcome") } });
  OUTCOMES.forEach(function (pair) {
    c.closeOutcome.appendChild(option(pair[0], t(pair[1])));
  });
  c.closeReason = el("input", { id: "close-reason", attrs: { type: "text", maxlength: 500, placeholder: t("Reason (optional)"), "aria-label": t("Reason") } });
  c.closeOutcome.addEventListener("change", function () {
    var needed = Boolean(VERDICTS[c.closeOutcome.value]);
    c.closeReason.placeholder = needed ? t("Reason (required for a lead verdict)") : t("Reason (optional)");
    c.closeReason.required = needed;
  });
  c.close = button(t("Close conversation"), "close");
  c.close.addEventListener("click", onClose);

  c.claimGroup = el("div", { cls: "action-group" }, [c.claim]);
  c.ownerGroup = el("div", { cls: "action-group" }, [
    el("div", { cls: "action-row" }, [c.handBack]),
    el("div", { cls: "action-row" }, [el("span", { cls: "action-label", text: t("Transfer") }), c.transferTarget, c.transfer]),
    el("div", { cls: "action-row" }, [el("span", { cls: "action-label", text: t("Close") }), c.closeOutcome, c.closeReason, c.close])
  ]);

  c.transcriptNote = el("p", { id: "transcript-note", cls: "note-banner" });
  c.transcriptNote.hidden = true;
  c.transcript = el("div", { id: "transcript", cls: "transcript", attrs: { role: "log", "aria-live": "polite", "aria-label": t("Transcript"), tabindex: 0 } });

  c.replyText = el("textarea", { id: "reply-text", attrs: { rows: 3, maxlength: 2000, placeholder: t("Reply to the visitor…"), "aria-label": t("Reply to the visitor") } });
  c.replySend = button(t("Send"), "reply-send", "primary");
  c.replyText.addEventListener("keydown", function (event) {
    if (event.key === "Enter" && !event.shiftKey && !event.isComposing) {
      event.preventDefault();
      sendReply();
    }
  });
  c.replySend.addEventListener("click", sendReply);
  c.replyGroup = el("div", { id: "reply-box", cls: "reply-box" }, [
    c.replyText,
    el("div", { cls: "reply-row" }, [el("span", { cls: "hint", text: t("Enter sends · Shift+Enter for a new line · / for a prepared answer") }), c.replySend])
  ]);
  attachCanned(c.replyText, c.replyGroup);
  attachLive(c); // who types, deliveries, the way back on a phone (live.js)
  c.replySlot = el("div", { cls: "reply-slot" });
  c.ownerSlot = el("div", { id: "owner-actions", cls: "owner-slot" });

  c.notesList = el("ul", { id: "notes-list", cls: "notes-list" });
  c.noteText = el("textarea", { id: "note-text", attrs: { rows: 2, maxlength: 2000, placeholder: t("Internal note for colleagues…"), "aria-label": t("Internal note") } });
  c.noteAdd = button(t("Add note"), "note-add");
  c.noteAdd.addEventListener("click", addNote);
  c.notes = el("section", { id: "notes", cls: "panel notes" }, [
    el("h3", { text: t("Notes") }, [document.createTextNode(" "), el("span", { cls: "internal", text: t("internal, the visitor does not see this") })]),
    c.notesList,
    c.noteText,
    el("div", { cls: "note-row" }, [c.noteAdd])
  ]);

  c.leadSlot = el("div", { cls: "lead-slot" });
  c.lead = null; // built on first lead (buildLeadCard)
  c.noLead = el("section", { id: "no-lead", cls: "panel muted", text: t("No lead is linked to this conversation.") });

  c.history = el("ul", { id: "history-list", cls: "history" });
  var historyBox = el("details", { id: "history", cls: "panel history-panel" }, [el("summary", { text: t("History") }), c.history]);

  var head = el("header", { cls: "conv-head" }, [
    el("div", { cls: "conv-title-row" }, [c.title, c.stateBadge]),
    c.summary.root,
    c.info,
    el("div", { cls: "routing" }, [el("h3", { text: t("Why it was routed here") }), c.rule, c.explanation])
  ]);
  var main = el("div", { cls: "conv-main" }, [
    head, c.problem, c.actions, c.ownerNote, c.transcriptNote, c.transcript, c.replySlot, c.ownerSlot
  ]);
  var side = el("div", { cls: "conv-side" }, [c.notes, c.leadSlot, historyBox]);
  root.appendChild(el("div", { cls: "conv-grid" }, [main, side]));
  root.appendChild(el("p", { cls: "placeholder loading", text: t("Loading…") }));
  c.loading = root.lastChild;
  ui.conv = c;
  labelShortcuts(c);
  updateTransferTargets();
}

export function renderDetail() {
  var c = ui.conv;
  var detail = state.detail;
  if (!c || !detail || !detail.handoff) return;
  if (c.loading && c.loading.parentNode) c.loading.parentNode.removeChild(c.loading);
  var handoff = detail.handoff;
  renderHead(c, handoff);
  renderSummary(c.summary, detail.summary || null);
  renderActions(c, handoff);
  if (detail.transcript_note) {
    c.transcriptNote.textContent = t(detail.transcript_note); // the server's English msgid
    c.transcriptNote.hidden = false;
  } else {
    c.transcriptNote.hidden = true;
  }
  renderTranscript(c, Array.isArray(detail.transcript) ? detail.transcript : []);
  renderLive(c, detail);
  renderNotes(c, Array.isArray(detail.notes) ? detail.notes : []);
  renderLead(c, detail.lead || null);
  renderHistory(c, Array.isArray(detail.events) ? detail.events : []);
}

// A server code in words (STATE_NAMES, REASONS, ... of state.js), else the code.
export function named(names, code) {
  return names[code] ? t(names[code]) : orDash(code);
}

// The routing explanation's lines as handoff/routing.py records them (English), to
// show them in the staff member's language; rule descriptions stay as routing.yml has them.
const ROUTING_LINES = [
  N_("Rule {rule} matched ({why}): {description}"),
  N_("Rule {rule} matched: {description}"),
  N_("{name} skipped: offline."),
  N_("{name} skipped: at capacity {load}/{capacity}."),
  N_("{name} skipped: {why}."),
  N_("Nobody of rule {rule} can take it; trying the next rules."),
  N_("Nobody of rule {rule} is online with room left; it waits in the {team} team queue."),
  N_("No rule gives this to anybody ({facts}); it waits in the {team} team queue."),
  N_("Assigned to {name}: next in turn after {before} (round robin)."),
  N_("Assigned to {name}: first in turn (round robin)."),
  N_("Assigned to {name}.")
];
// The facts a rule was looked for with ("{facts}", joined by ", ").
const ROUTING_FACTS = [
  N_("language {language}"),
  N_("need {need}"),
  N_("product line {line}"),
  N_("country {country}"),
  N_("postal code {postal}"),
  N_("{count} employees")
];
// The pieces of a rule's match ("{why}", joined by "; ") and of a skip's reason.
const ROUTING_PARTS = [
  N_("need is {need}"),
  N_("product line is {line}"),
  N_("{count} employees, over {limit}"),
  N_("country is {country}"),
  N_("postal code {postal} starts with {prefix}"),
  N_("country {country} is not {countries}"),
  N_("does not speak {language}"),
  N_("handles only {lines}, the product line is {line}")
];

function facts(text) {
  return String(text).split(", ").map(function (part) {
    var need = matchTemplate(ROUTING_FACTS[1], part);
    if (need) return t(ROUTING_FACTS[1], { need: named(NEEDS, need.need) });
    var country = matchTemplate(ROUTING_FACTS[3], part);
    if (country && country.country === "unknown") return t(ROUTING_FACTS[3], { country: t("unknown") });
    return translateText(part, ROUTING_FACTS);
  }).join(", ");
}

export function routingLine(line) {
  var parts = function (text) {
    return String(text).split("; ").map(function (part) {
      var need = matchTemplate(ROUTING_PARTS[0], part);
      if (need) return t(ROUTING_PARTS[0], { need: named(NEEDS, need.need) });
      return translateText(part, ROUTING_PARTS);
    }).join("; ");
  };
  for (var i = 0; i < ROUTING_LINES.length; i += 1) {
    var params = matchTemplate(ROUTING_LINES[i], line);
    if (!params) continue;
    if (params.why) params.why = parts(params.why);
    if (params.facts) params.facts = facts(params.facts);
    if (params.need) params.need = named(NEEDS, params.need);
    return t(ROUTING_LINES[i], params);
  }
  return line;
}

export function fact(list, label, value, cls) {
  if (value === null || value === undefined || value === "") return;
  list.appendChild(el("dt", { text: label }));
  list.appendChild(el("dd", { cls: cls, text: value }));
}

export function renderHead(c, handoff) {
  clear(c.stateBadge);
  c.stateBadge.appendChild(badge(handoff.state));
  clear(c.info);
  fact(c.info, t("State"), named(STATE_NAMES, handoff.state), "fact-state");
  fact(c.info, t("Reason"), named(REASONS, handoff.reason), "fact-reason");
  fact(c.info, t("Need"), handoff.need ? named(NEEDS, handoff.need) : null);
  fact(c.info, t("Language"), orDash(handoff.language), "fact-language");
  fact(c.info, t("Channel"), orDash(handoff.channel), "fact-channel");
  fact(c.info, t("Page"), handoff.page);
  fact(c.info, t("Team"), orDash(handoff.team_label || handoff.team), "fact-team");
  fact(c.info, t("Routed to"), routedTo(handoff), "fact-routed");
  if (Array.isArray(handoff.responsible) && handoff.responsible.length) {
    fact(c.info, t("Responsible"), handoff.responsible.join(", "));
  }
  fact(c.info, t("Requested"), dateTime(handoff.requested_at));
  if (handoff.claimed_at) fact(c.info, t("Claimed"), dateTime(handoff.claimed_at));
  if (handoff.closed_at) fact(c.info, t("Ended"), dateTime(handoff.closed_at));
  fact(c.info, t("Outcome"), handoff.outcome ? named(OUTCOME_NAMES, handoff.outcome) : null);
  fact(c.info, t("Lead stage"), stageName(handoff.lead_stage), "fact-stage");
  c.rule.textContent = "";
  c.rule.appendChild(el("span", { cls: "q-label", text: t("Rule") + " " }));
  c.rule.appendChild(el("code", { text: orDash(handoff.rule) }));
  clear(c.explanation);
  var lines = Array.isArray(handoff.explanation) ? handoff.explanation : [];
  if (!lines.length) c.explanation.appendChild(el("li", { cls: "muted", text: t("No explanation recorded.") }));
  lines.forEach(function (line) {
    c.explanation.appendChild(el("li", { text: routingLine(line) }));
  });
}

export function attachOnly(container, nodes) {
  clear(container);
  nodes.forEach(function (node) {
    container.appendChild(node);
  });
}

export function renderActions(c, handoff) {
  var owner = handoff.state === "human" && isMine(handoff);
  var key = handoff.state === "waiting" ? "claim" : owner ? "owner" : "none";
  if (key !== c.groupsKey) {
    // Re-attached only when the set of controls changes: a focused textarea keeps focus.
    c.groupsKey = key;
    attachOnly(c.actions, key === "claim" ? [c.claimGroup] : []);
    attachOnly(c.replySlot, key === "owner" ? [c.replyGroup] : []);
    attachOnly(c.ownerSlot, key === "owner" ? [c.ownerGroup] : []);
  }
  var note = "";
  var outcome = handoff.outcome ? named(OUTCOME_NAMES, handoff.outcome) : "";
  if (handoff.state === "human" && !owner) note = t("With {person}.", { person: routedTo(handoff) });
  if (handoff.state === "closed") note = outcome ? t("This conversation is closed ({outcome}).", { outcome: outcome }) : t("This conversation is closed.");
  if (handoff.state === "bot") note = outcome ? t("This conversation is back with the bot ({outcome}).", { outcome: outcome }) : t("This conversation is back with the bot.");
  c.ownerNote.textContent = note;
  c.ownerNote.hidden = !note;
}

export function lineNode(line) {
  var from = SENDERS.indexOf(line.from) >= 0 ? line.from : "system";
  var author = t(AUTHORS[from]);
  if ((from === "agent" || from === "system") && line.author) author = line.author;
  var node = el("div", { cls: "line from-" + from, data: line.id ? { id: line.id } : null }, [
    el("div", { cls: "meta" }, [
      el("span", { cls: "author", text: author }),
      el("time", { cls: "time", text: clock(line.at), attrs: { datetime: line.at || "", title: dateTime(line.at) } })
    ]),
    el("div", { cls: "text", text: line.text || "" })
  ]);
  if (Array.isArray(line.buttons) && line.buttons.length) {
    node.appendChild(el("div", { cls: "buttons" }, line.buttons.map(function (choice) {
      var label = choice && typeof choice === "object" ? (choice.title || choice.payload) : choice;
      return el("span", { cls: "chip", text: orDash(label) });
    })));
  }
  return node;
}

export function renderTranscript(c, lines) {
  var box = c.transcript;
  var key = JSON.stringify(lines);
  if (key === c.transcriptKey) return;
  var first = c.transcriptKey === null;
  var nearBottom = box.scrollHeight - box.scrollTop - box.clientHeight < 80;
  c.transcriptKey = key;
  clear(box);
  if (!lines.length) box.appendChild(el("p", { cls: "placeholder", text: t("No messages yet.") }));
  lines.forEach(function (line) {
    box.appendChild(lineNode(line));
  });
  if (first || nearBottom || c.forceScroll) box.scrollTop = box.scrollHeight;
  c.forceScroll = false;
}

export function renderNotes(c, notes) {
  var key = JSON.stringify(notes);
  if (key === c.notesKey) return;
  c.notesKey = key;
  clear(c.notesList);
  if (!notes.length) c.notesList.appendChild(el("li", { cls: "muted", text: t("No notes yet.") }));
  notes.forEach(function (note) {
    c.notesList.appendChild(el("li", { cls: "note" }, [
      el("div", { cls: "meta" }, [
        el("span", { cls: "author", text: orDash(note.author) }),
        el("time", { cls: "time", text: dateTime(note.at), attrs: { datetime: note.at || "" } })
      ]),
      el("div", { cls: "text", text: note.text || "" })
    ]));
  });
}

export function renderHistory(c, events) {
  clear(c.history);
  events.forEach(function (event) {
    c.history.appendChild(el("li", {}, [
      el("time", { cls: "time", text: dateTime(event.at) }),
      el("span", { text: " " + named(EVENT_NAMES, event.kind) }),
      el("span", { cls: "muted", text: event.actor ? " " + t("by {actor}", { actor: event.actor }) : "" })
    ]));
  });
  if (!events.length) c.history.appendChild(el("li", { cls: "muted", text: t("Nothing recorded.") }));
}
