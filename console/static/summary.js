// The summary at the top of a conversation: why it came to a person, what the bot
// already answered, the lead's answers, fit and interest, stage and consent. The data is
// the detail's `summary` (console/summary.py); every word shown here is in LABELS, one
// block per language, chosen by the page's language (<html lang>).

import { answerText } from "./lead_card.js";
import { clear, dateTime, el, orDash, token } from "./dom.js";

export const LABELS = {
  en: {
    title: "At a glance",
    why: "Why",
    lastQuestion: "Last question",
    noQuestion: "no question typed before the handoff",
    answered: "Bot answered",
    nothingAnswered: "nothing yet",
    document: "document",
    need: { sales: "sales", service: "service" },
    stage: "Stage",
    fit: "Fit",
    interest: "Interest",
    answers: "Answers",
    noAnswers: "none yet",
    consent: "Consent",
    consentGiven: "given {at} (version {version})",
    consentNone: "not given: personal answers are not shown",
    lead: "Lead",
    noLead: "none yet: the bot has learnt nothing about the visitor",
    reasons: {
      visitor_asked: "The visitor asked for a person",
      out_of_scope: "A question outside what the bot covers; the visitor accepted a person",
      out_of_depth: "A question deeper than the bot's content; the visitor accepted a person",
      not_understood: "The bot did not understand twice in a row",
      sales_ready: "A qualified lead, ready for sales",
      rule: "A handoff rule held"
    }
  },
  de: {
    title: "Auf einen Blick",
    why: "Warum",
    lastQuestion: "Letzte Frage",
    noQuestion: "vor der Übergabe keine Frage getippt",
    answered: "Bot hat beantwortet",
    nothingAnswered: "noch nichts",
    document: "Dokument",
    need: { sales: "Vertrieb", service: "Service" },
    stage: "Phase",
    fit: "Passung",
    interest: "Interesse",
    answers: "Antworten",
    noAnswers: "noch keine",
    consent: "Einwilligung",
    consentGiven: "erteilt {at} (Version {version})",
    consentNone: "nicht erteilt: persönliche Antworten werden nicht gezeigt",
    lead: "Lead",
    noLead: "noch keiner: der Bot weiß nichts über den Besucher",
    reasons: {
      visitor_asked: "Der Besucher wollte eine Person sprechen",
      out_of_scope: "Eine Frage außerhalb der Themen des Bots; der Besucher wollte eine Person",
      out_of_depth: "Eine Frage tiefer als die Inhalte des Bots; der Besucher wollte eine Person",
      not_understood: "Der Bot hat zweimal hintereinander nicht verstanden",
      sales_ready: "Ein qualifizierter Lead, bereit für den Vertrieb",
      rule: "Eine Übergaberegel hat gegriffen"
    }
  }
};

export function language() {
  var lang = String(document.documentElement.lang || "en").slice(0, 2).toLowerCase();
  return LABELS[lang] ? lang : "en";
}

function words(template, values) {
  return template.replace(/\{(\w+)\}/g, function (_, name) {
    return orDash(values[name]);
  });
}

function row(list, label, node, cls) {
  list.appendChild(el("dt", { text: label }));
  list.appendChild(el("dd", { cls: cls }, [node]));
}

function text(value) {
  return document.createTextNode(value);
}

function bullets(lines, cls) {
  return el("ul", { cls: "explanation " + cls }, lines.map(function (line) {
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
  var key = JSON.stringify(summary) + "\n" + language();
  if (key === box.key) return;
  box.key = key;
  var lang = language();
  var t = LABELS[lang];
  box.root.hidden = !summary;
  box.heading.textContent = t.title;
  box.root.setAttribute("aria-label", t.title);
  clear(box.facts);
  if (!summary) return;

  var reason = t.reasons[summary.reason] || orDash(summary.reason);
  var need = t.need[summary.need];
  row(box.facts, t.why, text(need ? reason + " · " + need : reason), "summary-reason");
  row(box.facts, t.lastQuestion, summary.last_question ?
    el("q", { text: summary.last_question, attrs: { title: dateTime(summary.last_question_at) } }) :
    el("span", { cls: "muted", text: t.noQuestion }), "summary-question");

  var answered = Array.isArray(summary.answered) ? summary.answered : [];
  row(box.facts, t.answered, answered.length ?
    el("ul", { cls: "summary-topics" }, answered.map(function (item) {
      var titles = item.title || {};
      var title = titles[lang] || titles.en || titles.de || orDash(item.key);
      return el("li", { cls: "topic topic-" + token(item.kind), text: item.kind === "document" ? t.document + ": " + title : title });
    })) :
    el("span", { cls: "muted", text: t.nothingAnswered }), "summary-answered");

  var lead = summary.lead;
  if (!lead) {
    row(box.facts, t.lead, el("span", { cls: "muted", text: t.noLead }), "summary-lead");
    return;
  }
  row(box.facts, t.stage, text(orDash(lead.stage)), "summary-stage");
  row(box.facts, t.fit, el("div", {}, [
    el("strong", { text: orDash(lead.fit) }), bullets(lead.fit_explanation || [], "summary-fit")
  ]), "summary-fit-score");
  row(box.facts, t.interest, el("div", {}, [
    el("strong", { text: orDash(lead.interest) }), bullets(lead.interest_explanation || [], "summary-interest")
  ]), "summary-interest-score");
  var answers = Array.isArray(lead.answers) ? lead.answers : [];
  row(box.facts, t.answers, answers.length ?
    el("ul", { cls: "summary-answers" }, answers.map(function (answer) {
      return el("li", { data: { attribute: answer.key } }, [
        el("span", { cls: "answer-key", text: answer.key + ": " }),
        text(answerText(answer))
      ]);
    })) :
    el("span", { cls: "muted", text: t.noAnswers }), "summary-lead-answers");
  row(box.facts, t.consent, el("span", {
    cls: lead.consent_given ? "consent-given" : "consent-none",
    text: lead.consent_given ?
      words(t.consentGiven, { at: dateTime(lead.consent_given_at), version: lead.consent_version }) :
      t.consentNone
  }), "summary-consent");
}
