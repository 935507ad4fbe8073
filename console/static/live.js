// What changes in the open conversation between its reloads (issue 22, item 4), and the
// way back to the queue on a phone (item 6).
//
// Typing: while the agent who has the conversation types a reply (not a "/" search for a
// prepared answer), the console says so at most every REPORT_EVERY_MS
// (PUT /handoffs/{id}/typing); the server counts it for 5 s, and an emptied reply box or
// the sent message ends it. The event stream's `typing` events (ids only) make the open
// conversation ask who types (GET /handoffs/{id}/typing); the line under the transcript
// says "The visitor is typing…" until the seconds the server gave run out.
//
// Deliveries: in a messenger conversation each of the agent's lines says whether the
// platform took it (GET /handoffs/{id}/deliveries): delivered, pending (asked again
// every POLL_PENDING_MS while the conversation is open) or failed with the reason.

import { api } from "./api.js";
import { $, clear, el } from "./dom.js";
import { N_, t } from "./i18n.js";
import { markActive } from "./queue.js";
import { state, ui } from "./state.js";

var REPORT_EVERY_MS = 2000;
var POLL_PENDING_MS = 3000;
var FAILED_KINDS = {
  refused: N_("the platform refused it"),
  unknown: N_("no answer from the platform: it may or may not have arrived"),
  busy: N_("the platform was busy for too long"),
  expired: N_("it could not be sent in time"),
  gone: N_("the conversation's address is gone")
};

function owned(c) {
  var handoff = state.detail && state.detail.handoff;
  return Boolean(c && c === ui.conv && handoff && handoff.id === c.id && handoff.state === "human" &&
    state.me && (handoff.assignee === state.me.staff_id || state.me.role === "admin"));
}

function open(c) {
  var handoff = state.detail && state.detail.handoff;
  return Boolean(c && c === ui.conv && handoff && (handoff.state === "human" || handoff.state === "waiting"));
}

// -- the agent types ----------------------------------------------------------------

function report(c, typing) {
  c.typingSentAt = typing ? Date.now() : 0;
  api("PUT", "/handoffs/" + c.id + "/typing", { typing: typing });
}

function onReplyInput(c) {
  if (!owned(c)) return;
  var value = c.replyText.value;
  var typing = value.trim() !== "" && value.charAt(0) !== "/";
  if (typing && Date.now() - (c.typingSentAt || 0) >= REPORT_EVERY_MS) report(c, true);
  else if (!typing && c.typingSentAt && Date.now() - c.typingSentAt < 5000) report(c, false);
}

// -- the visitor types ----------------------------------------------------------------

function showVisitorTyping(c, seconds) {
  if (c.typingTimer) clearTimeout(c.typingTimer);
  c.typingTimer = null;
  c.typingLine.hidden = !(seconds > 0);
  if (seconds > 0) {
    c.typingTimer = setTimeout(function () {
      c.typingTimer = null;
      c.typingLine.hidden = true;
    }, seconds * 1000);
  }
}

export async function loadTyping() {
  var c = ui.conv;
  if (!open(c)) {
    if (c) showVisitorTyping(c, 0);
    return;
  }
  var result = await api("GET", "/handoffs/" + c.id + "/typing");
  if (result.stale || c !== ui.conv || !result.ok) return;
  var visitor = result.data.visitor || {};
  showVisitorTyping(c, visitor.typing ? Number(visitor.seconds) || 0 : 0);
}

// The event stream says someone typed somewhere: ask for the open conversation.
export function onTypingEvent() {
  if (ui.conv && !ui.conv.typingAsking) {
    var c = ui.conv;
    c.typingAsking = true;
    loadTyping().finally(function () {
      c.typingAsking = false;
    });
  }
}

// -- deliveries to a messenger --------------------------------------------------------

function deliveryNode(d) {
  if (d.status === "delivered") {
    return el("span", { cls: "delivery delivery-delivered", text: "✓ " + t("delivered") });
  }
  if (d.status === "failed") {
    var why = FAILED_KINDS[d.kind] ? t(FAILED_KINDS[d.kind]) : (d.kind || "");
    var text = "✕ " + t("not delivered: {why}", { why: why }) + (d.reason ? " (" + d.reason + ")" : "");
    return el("span", { cls: "delivery delivery-failed", text: text, attrs: { role: "note" } });
  }
  return el("span", { cls: "delivery delivery-pending", text: "… " + t("pending") });
}

function paintDeliveries(c) {
  var byId = c.deliveries || {};
  var lines = c.transcript.querySelectorAll(".line.from-agent[data-id]");
  for (var i = 0; i < lines.length; i += 1) {
    var found = byId[lines[i].dataset.id];
    var old = lines[i].querySelector(".delivery");
    if (old) old.parentNode.removeChild(old);
    if (found) lines[i].appendChild(deliveryNode(found));
  }
}

async function loadDeliveries(c) {
  if (c.messenger === false || c.deliveriesAsking) return;
  c.deliveriesAsking = true;
  var result = await api("GET", "/handoffs/" + c.id + "/deliveries");
  c.deliveriesAsking = false;
  if (result.stale || c !== ui.conv || !result.ok) return;
  c.messenger = Boolean(result.data.messenger);
  var byId = {};
  var pending = false;
  (result.data.deliveries || []).forEach(function (d) {
    byId[String(d.message_id)] = d;
    if (d.status === "pending") pending = true;
  });
  c.deliveries = byId;
  paintDeliveries(c);
  if (c.pendingTimer) clearTimeout(c.pendingTimer);
  c.pendingTimer = pending ? setTimeout(function () {
    c.pendingTimer = null;
    if (c === ui.conv) loadDeliveries(c);
  }, POLL_PENDING_MS) : null;
}

// -- back to the queue (phones) ---------------------------------------------------------

export function backToQueue() {
  if (state.openId === null) return;
  var id = state.openId;
  state.openId = null;
  state.detail = null;
  ui.conv = null;
  var root = $("conversation");
  clear(root);
  root.appendChild(el("p", { cls: "placeholder", text: t("Choose a conversation from the queue.") }));
  markActive();
  try {
    window.history.replaceState(null, "", "#");
  } catch (e) { /* the address only remembers the conversation for a reload */ }
  var item = document.querySelector('.queue-item[data-id="' + id + '"]') || document.querySelector(".queue-item");
  if (item) item.focus();
}

// -- hooks for conversation.js --------------------------------------------------------

// Called once the conversation's elements are built.
export function attachLive(c) {
  c.typingLine = el("p", { id: "visitor-typing", cls: "typing-line", text: t("The visitor is typing…"), attrs: { "aria-live": "polite" } });
  c.typingLine.hidden = true;
  c.replyText.addEventListener("input", function () {
    onReplyInput(c);
  });
  c.back = el("button", { id: "back-to-queue", cls: "back-to-queue", text: "← " + t("Queue"), attrs: { type: "button", "aria-keyshortcuts": "Escape" } });
  c.back.addEventListener("click", backToQueue);
}

// Called after each render of the conversation's detail.
export function renderLive(c, detail) {
  if (!c.typingLine.parentNode && c.transcript.parentNode) c.transcript.after(c.typingLine);
  var grid = c.transcript.closest(".conv-grid");
  if (grid && c.back.parentNode !== grid.parentNode) grid.parentNode.insertBefore(c.back, grid);
  var handoff = detail && detail.handoff;
  var said = Array.isArray(detail.transcript) ? detail.transcript.length : 0;
  if (!handoff || (handoff.state !== "human" && handoff.state !== "waiting")) {
    showVisitorTyping(c, 0);
  } else if (c.typingSaid !== said) {
    // The first render asks; then `typing` events, and a new line (a sent message ends
    // its writer's typing without a typing event).
    c.typingSaid = said;
    loadTyping();
  }
  if (!c.transcript.querySelector(".line.from-agent[data-id]")) return;
  paintDeliveries(c); // the transcript may have been drawn anew
  if (c.messenger !== false && !c.pendingTimer) loadDeliveries(c);
}
