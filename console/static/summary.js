// The summary at the top of a conversation: why it came to a person, what the bot
// already answered, the lead's answers, fit and interest, stage and consent. The data is
// the detail's `summary` (console/summary.py); its words are the console's catalogue
// (t(), i18n.js), in the staff member's language; content titles come in both languages.

import { answerLabel, answerText, scoreLines } from "./lead_card.js";
import { clear, dateTime, el, orDash, stageName, token } from "./dom.js";
import { currentLanguage, t } from "./i18n.js";
import { NEEDS, REASONS } from "./state.js";

function row(list, label, node, cls) {
  list.appendChild(el("dt", { text: label }));
  list.appendChild(el("dd", { cls: cls }, [node]));
}

function text(value) {
  return document.createTextNode(value);
}

function bullets(lines, cls) {
  return el("ul", { cls: "explanation " + cls }, scoreLines(lines).map(function (line) {
    return el("li", { text: line });
  }));
}

export function buildSummary() {
  var box = { key: null };
  box.facts = el("dl", { id: "summary-facts", cls: "facts summary-facts" });
  box.heading = el("h3", {});
  box.root = el("section", { id: "summary", cls: "summary" }, [
    box.heading, box.facts
  ]);
  return box;
}

export function renderSummary(box, summary) {
  var lang = currentLanguage();
  var key = JSON.stringify(summary) + "\n" + lang;
  if (key === box.key) return;
  box.key = key;
  var title = t("At a glance");
  box.root.hidden = !summary;
  box.heading.textContent = title;
  box.root.setAttribute("aria-label", title);
  clear(box.facts);
  if (!summary) return;

  var reason = REASONS[summary.reason] ? t(REASONS[summary.reason]) : orDash(summary.reason);
  var need = NEEDS[summary.need] ? t(NEEDS[summary.need]) : "";
  row(box.facts, t("Why"), text(need ? reason + " · " + need : reason), "summary-reason");
  row(box.facts, t("Last question"), summary.last_question ?
    el("q", { text: summary.last_question, attrs: { title: dateTime(summary.last_question_at) } }) :
    el("span", { cls: "muted", text: t("no question typed before the handoff") }), "summary-question");

  var answered = Array.isArray(summary.answered) ? summary.answered : [];
  row(box.facts, t("Bot answered"), answered.length ?
    el("ul", { cls: "summary-topics" }, answered.map(function (item) {
      var titles = item.title || {};
      var shown = titles[lang] || titles.en || titles.de || orDash(item.key);
      return el("li", { cls: "topic topic-" + token(item.kind), text: item.kind === "document" ? t("document: {title}", { title: shown }) : shown });
    })) :
    el("span", { cls: "muted", text: t("nothing yet") }), "summary-answered");

  var lead = summary.lead;
  if (!lead) {
    row(box.facts, t("Lead"), el("span", { cls: "muted", text: t("none yet: the bot has learnt nothing about the visitor") }), "summary-lead");
    return;
  }
  row(box.facts, t("Stage"), text(stageName(lead.stage)), "summary-stage");
  row(box.facts, t("Fit"), el("div", {}, [
    el("strong", { text: orDash(lead.fit) }), bullets(lead.fit_explanation || [], "summary-fit")
  ]), "summary-fit-score");
  row(box.facts, t("Interest"), el("div", {}, [
    el("strong", { text: orDash(lead.interest) }), bullets(lead.interest_explanation || [], "summary-interest")
  ]), "summary-interest-score");
  var answers = Array.isArray(lead.answers) ? lead.answers : [];
  row(box.facts, t("Answers"), answers.length ?
    el("ul", { cls: "summary-answers" }, answers.map(function (answer) {
      return el("li", { data: { attribute: answer.key } }, [
        el("span", { cls: "answer-key", text: answerLabel(answer.key) + ": " }),
        text(answerText(answer))
      ]);
    })) :
    el("span", { cls: "muted", text: t("none yet") }), "summary-lead-answers");
  row(box.facts, t("Consent"), el("span", {
    cls: lead.consent_given ? "consent-given" : "consent-none",
    text: lead.consent_given ?
      t("given {at} (version {version})", { at: dateTime(lead.consent_given_at), version: orDash(lead.consent_version) }) :
      t("not given: personal answers are not shown")
  }), "summary-consent");
}
