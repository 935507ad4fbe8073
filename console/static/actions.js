// What an agent does with a conversation: claim, hand back, transfer, close, reply, note.

import { api, errorText } from "./api.js";
import { refresh, setStatus } from "./console.js";
import { renderDetail } from "./conversation.js";
import { clear, el, option } from "./dom.js";
import { answerLabel, renderLead } from "./lead_card.js";
import { t } from "./i18n.js";
import { VERDICTS, state, ui } from "./state.js";

// -- actions ------------------------------------------------------------------------

export function mergeSummary(c, summary) {
  // The action replies carry the new handoff summary (without the lead stage).
  if (c !== ui.conv || !state.detail || !summary || summary.id !== c.id) return;
  var stage = state.detail.handoff ? state.detail.handoff.lead_stage : null;
  state.detail.handoff = Object.assign({}, summary, { lead_stage: summary.lead_stage || stage });
  renderDetail();
}

export async function act(c, path, body, control, done) {
  if (c !== ui.conv || control.disabled) return null;
  control.disabled = true;
  var result = await api("POST", "/handoffs/" + c.id + "/" + path, body);
  control.disabled = false;
  if (result.stale || result.status === 401 || c !== ui.conv) return null;
  if (!result.ok) {
    if (path === "claim" && result.status === 409) {
      setStatus(t("Someone else claimed it first."), "error");
    } else {
      setStatus(errorText(result, t("That did not work")), "error");
    }
    refresh();
    return null;
  }
  if (done) setStatus(done, "ok");
  refresh();
  return result;
}

export async function onClaim() {
  var c = ui.conv;
  if (!c) return;
  var result = await act(c, "claim", {}, c.claim, t("You have the conversation now."));
  if (result) {
    mergeSummary(c, result.data);
    if (c.replyText.parentNode) c.replyText.focus();
  }
}

export async function onHandBack() {
  var c = ui.conv;
  if (!c) return;
  var result = await act(c, "hand-back", {}, c.handBack, t("The conversation is back with the bot."));
  if (result) mergeSummary(c, result.data);
}

export async function onTransfer() {
  var c = ui.conv;
  if (!c) return;
  var target = c.transferTarget.value;
  var body;
  if (target.indexOf("staff:") === 0) body = { staff_id: target.slice(6) };
  else if (target.indexOf("team:") === 0) body = { team: target.slice(5) };
  if (!body) {
    setStatus(t("Choose a colleague or a team to transfer to."), "error");
    c.transferTarget.focus();
    return;
  }
  var label = c.transferTarget.options[c.transferTarget.selectedIndex].textContent;
  var result = await act(c, "transfer", body, c.transfer, t("Transferred to {target}.", { target: label }));
  if (result) mergeSummary(c, result.data);
}

export async function onClose() {
  var c = ui.conv;
  if (!c) return;
  var outcome = c.closeOutcome.value;
  var reason = c.closeReason.value.trim();
  var verdict = VERDICTS[outcome];
  if (verdict && !reason) {
    setStatus(t("Give a reason when you accept or reject the lead."), "error");
    c.closeReason.focus();
    return;
  }
  var body = { outcome: outcome, reason: reason };
  if (verdict) body.lead_verdict = verdict;
  var result = await act(c, "close", body, c.close, t("The conversation is closed."));
  if (result) {
    c.closeReason.value = "";
    mergeSummary(c, result.data);
  }
}

export async function sendReply() {
  var c = ui.conv;
  if (!c || c.sending) return;
  var text = c.replyText.value.trim();
  if (!text) return;
  c.sending = true;
  c.replySend.disabled = true;
  var result = await api("POST", "/handoffs/" + c.id + "/messages", { text: text });
  c.sending = false;
  c.replySend.disabled = false;
  if (result.stale || result.status === 401 || c !== ui.conv) return;
  if (!result.ok) {
    setStatus(errorText(result, t("The message was not sent")), "error");
    refresh();
    return;
  }
  c.replyText.value = "";
  c.forceScroll = true;
  setStatus("");
  refresh();
}

export async function addNote() {
  var c = ui.conv;
  if (!c || c.noteAdd.disabled) return;
  var text = c.noteText.value.trim();
  if (!text) {
    setStatus(t("Write the note first."), "error");
    c.noteText.focus();
    return;
  }
  c.noteAdd.disabled = true;
  var result = await api("POST", "/handoffs/" + c.id + "/notes", { text: text });
  c.noteAdd.disabled = false;
  if (result.stale || result.status === 401 || c !== ui.conv) return;
  if (!result.ok) {
    setStatus(errorText(result, t("The note was not saved")), "error");
    return;
  }
  c.noteText.value = "";
  setStatus(t("Note saved."), "ok");
  refresh();
}

export async function editAnswer(c, row) {
  if (c !== ui.conv || row.button.disabled) return;
  var text = row.input.value.trim();
  if (!text) {
    row.error.textContent = t("Type the new answer first.");
    row.input.focus();
    return;
  }
  row.button.disabled = true;
  row.error.textContent = "";
  var result = await api("POST", "/handoffs/" + c.id + "/answers", { attribute: row.key, text: text });
  row.button.disabled = false;
  if (result.stale || result.status === 401 || c !== ui.conv) return;
  if (!result.ok) {
    var message = errorText(result, t("The answer was not saved"));
    row.error.textContent = message;
    setStatus(message, "error");
    return;
  }
  row.input.value = "";
  setStatus(t("The answer to {question} is saved.", { question: answerLabel(row.key) }), "ok");
  if (state.detail && result.data && typeof result.data === "object") {
    state.detail.lead = result.data;
    renderLead(c, result.data);
  }
  refresh();
}

export function teamLabel(key) {
  var teams = state.queue && Array.isArray(state.queue.teams) ? state.queue.teams : [];
  for (var i = 0; i < teams.length; i += 1) {
    if (teams[i].key === key) return teams[i].label || key;
  }
  return key;
}

export function updateTransferTargets() {
  var c = ui.conv;
  if (!c || !state.queue || !state.me) return;
  var staff = Array.isArray(state.queue.staff) ? state.queue.staff : [];
  var teams = Array.isArray(state.queue.teams) ? state.queue.teams : [];
  var key = JSON.stringify([staff, teams, state.me.staff_id]);
  if (key === c.targetsKey) return; // rebuilding would close an open drop-down
  c.targetsKey = key;
  var select = c.transferTarget;
  var previous = select.value;
  clear(select);
  select.appendChild(option("", t("Choose colleague or team…")));
  var people = el("optgroup", { attrs: { label: t("Colleagues") } });
  staff.filter(function (member) {
    return member.id !== state.me.staff_id;
  }).forEach(function (member) {
    var label = (member.online ? "● " : "○ ") + (member.name || member.id) + " · " + teamLabel(member.team) +
      " · " + (member.online ? t("online") : t("offline"));
    people.appendChild(option("staff:" + member.id, label, member.online ? "online" : "offline"));
  });
  var groups = el("optgroup", { attrs: { label: t("Teams") } });
  teams.forEach(function (team) {
    groups.appendChild(option("team:" + team.key, t("Team {team}", { team: team.label || team.key })));
  });
  if (people.children.length) select.appendChild(people);
  if (groups.children.length) select.appendChild(groups);
  select.value = previous;
  if (select.value !== previous) select.value = "";
}
