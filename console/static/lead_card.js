// The lead card: the lead's answers, score and merges; answers a person corrects.

import { editAnswer } from "./actions.js";
import { attachOnly, fact } from "./conversation.js";
import { clear, dateTime, el, orDash, stageName, token } from "./dom.js";
import { N_, t } from "./i18n.js";

// The qualification questions (bot/data/qualification.yml) and where an answer came from.
const QUESTIONS = {
  need: N_("need"),
  company: N_("company"),
  employees: N_("employees"),
  industry: N_("industry"),
  role: N_("role"),
  location: N_("location"),
  timeline: N_("timeline"),
  budget: N_("budget"),
  name: N_("name"),
  email: N_("email"),
  phone: N_("phone")
};
const SOURCES = { bot: N_("bot"), human: N_("human"), visitor: N_("visitor"), crm: N_("crm") };
const STATUSES = { declined: N_("declined"), unknown: N_("unknown"), skipped: N_("skipped") };

export function answerLabel(key) {
  return QUESTIONS[key] ? t(QUESTIONS[key]) : String(key);
}

// -- the lead card ------------------------------------------------------------------

export function scalarText(value) {
  if (value === null || value === undefined) return "–";
  if (Array.isArray(value)) return value.map(scalarText).join(", ");
  if (typeof value === "object") return JSON.stringify(value);
  return String(value);
}

export function valueText(value) {
  if (value === null || value === undefined) return "–";
  if (Array.isArray(value)) return value.map(scalarText).join(", ");
  if (typeof value === "object") {
    var keys = Object.keys(value);
    if (!keys.length) return "–";
    if (keys.length === 1) return scalarText(value[keys[0]]); // {"count": 80}: 80
    return keys.map(function (key) {
      return key + ": " + scalarText(value[key]);
    }).join(", ");
  }
  return String(value);
}

// An answer as the server words it in the staff member's language (`shown`), else its
// value as it is.
export function answerText(answer) {
  if (!answer) return "–";
  if (answer.status && answer.status !== "answered") return "(" + (STATUSES[answer.status] ? t(STATUSES[answer.status]) : answer.status) + ")";
  if (typeof answer.shown === "string" && answer.shown) return answer.shown;
  return valueText(answer.value);
}

// The score explanation's lines come in the staff member's language from the server
// (crm_adapter/explanation.py with the console's catalogue).
export function scoreLines(lines) {
  return Array.isArray(lines) ? lines.map(String) : [];
}

export function buildLeadCard() {
  var card = {};
  card.facts = el("dl", { cls: "facts lead-facts" });
  card.fit = el("ul", { id: "fit-explanation", cls: "explanation" });
  card.interest = el("ul", { id: "interest-explanation", cls: "explanation" });
  card.consent = el("p", { id: "lead-consent", cls: "consent" });
  card.rows = el("ul", { id: "answers", cls: "answers" });
  card.root = el("section", { id: "lead-card", cls: "panel lead-card" }, [
    el("h3", { text: t("Lead") }),
    card.facts,
    el("h4", { text: t("Fit") }), card.fit,
    el("h4", { text: t("Interest") }), card.interest,
    el("h4", { text: t("Consent") }), card.consent,
    el("h4", { text: t("Answers") }),
    card.rows
  ]);
  return card;
}

export function answerRow(c, key, editable) {
  var row = { key: key };
  row.value = el("span", { cls: "answer-value" });
  row.source = el("span", { cls: "answer-source" });
  row.error = el("div", { cls: "answer-error error" });
  row.node = el("li", { cls: "answer-row", data: { attribute: key } }, [
    el("span", { cls: "answer-key", text: answerLabel(key) }), row.value, row.source
  ]);
  if (editable) {
    row.input = el("input", { cls: "answer-input", data: { attribute: key }, attrs: { type: "text", maxlength: 300, placeholder: t("New answer for {question}", { question: answerLabel(key) }), "aria-label": t("New answer for {question}", { question: answerLabel(key) }) } });
    row.button = el("button", { cls: "answer-edit", text: t("Save"), data: { attribute: key } });
    row.button.type = "button";
    row.button.addEventListener("click", function () {
      editAnswer(c, row);
    });
    row.input.addEventListener("keydown", function (event) {
      if (event.key === "Enter" && !event.isComposing) {
        event.preventDefault();
        editAnswer(c, row);
      }
    });
    row.input.addEventListener("input", function () {
      row.error.textContent = "";
    });
    row.node.appendChild(el("div", { cls: "answer-form" }, [row.input, row.button]));
    row.node.appendChild(row.error);
  }
  return row;
}

export function renderLead(c, lead) {
  if (!lead) {
    attachOnly(c.leadSlot, [c.noLead]);
    return;
  }
  if (!c.lead) c.lead = buildLeadCard();
  var card = c.lead;
  if (card.root.parentNode !== c.leadSlot) attachOnly(c.leadSlot, [card.root]);

  clear(card.facts);
  fact(card.facts, t("Stage"), stageName(lead.stage), "lead-stage");
  fact(card.facts, t("Fit"), orDash(lead.fit), "lead-fit");
  fact(card.facts, t("Interest"), orDash(lead.interest), "lead-interest");
  fact(card.facts, t("Name"), lead.name);
  fact(card.facts, t("Email"), lead.email ? lead.email + (lead.freemail ? " " + t("(freemail)") : "") : null);
  fact(card.facts, t("Phone"), lead.phone);

  var explanation = lead.explanation || {};
  [[card.fit, explanation.fit], [card.interest, explanation.interest]].forEach(function (pair) {
    clear(pair[0]);
    (Array.isArray(pair[1]) ? pair[1] : []).forEach(function (line) {
      pair[0].appendChild(el("li", { text: line }));
    });
  });

  var consent = lead.consent;
  card.consent.className = "consent " + (consent ? "consent-given" : "consent-none");
  card.consent.textContent = consent ?
    t("Version {version}, given {at} via {channel}", { version: orDash(consent.version), at: dateTime(consent.given_at), channel: orDash(consent.channel) }) :
    t("no consent");

  var answers = lead.answers && typeof lead.answers === "object" ? lead.answers : {};
  var questions = Array.isArray(lead.questions) ? lead.questions : [];
  var keys = questions.slice();
  Object.keys(answers).forEach(function (key) {
    if (keys.indexOf(key) < 0) keys.push(key);
  });
  keys.forEach(function (key) {
    if (!c.answerRows[key]) c.answerRows[key] = answerRow(c, key, questions.indexOf(key) >= 0);
    var row = c.answerRows[key];
    var answer = answers[key];
    row.value.textContent = answerText(answer);
    clear(row.source);
    if (answer) {
      row.source.appendChild(el("span", {
        cls: "source source-" + token(answer.source),
        text: SOURCES[answer.source] ? t(SOURCES[answer.source]) : orDash(answer.source),
        attrs: { title: answer.at ? t("recorded {at}", { at: dateTime(answer.at) }) : "" }
      }));
    } else {
      row.source.textContent = "–";
    }
  });
  var order = keys.join("\n");
  if (order !== c.answerOrder) {
    // Rows are only moved when the set changes: an input being typed in keeps focus.
    c.answerOrder = order;
    attachOnly(card.rows, keys.map(function (key) {
      return c.answerRows[key].node;
    }));
  }
}
