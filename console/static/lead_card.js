// The lead card: the lead's answers, score and merges; answers a person corrects.

import { editAnswer } from "./actions.js";
import { attachOnly, fact } from "./conversation.js";
import { clear, dateTime, el, orDash, token } from "./dom.js";

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
    return keys.map(function (key) {
      return key + ": " + scalarText(value[key]);
    }).join(", ");
  }
  return String(value);
}

export function answerText(answer) {
  if (!answer) return "–";
  if (answer.status && answer.status !== "answered") return "(" + answer.status + ")";
  return valueText(answer.value);
}

export function buildLeadCard() {
  var card = {};
  card.facts = el("dl", { cls: "facts lead-facts" });
  card.fit = el("ul", { id: "fit-explanation", cls: "explanation" });
  card.interest = el("ul", { id: "interest-explanation", cls: "explanation" });
  card.consent = el("p", { id: "lead-consent", cls: "consent" });
  card.rows = el("ul", { id: "answers", cls: "answers" });
  card.root = el("section", { id: "lead-card", cls: "panel lead-card" }, [
    el("h3", { text: "Lead" }),
    card.facts,
    el("h4", { text: "Fit" }), card.fit,
    el("h4", { text: "Interest" }), card.interest,
    el("h4", { text: "Consent" }), card.consent,
    el("h4", { text: "Answers" }),
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
    el("span", { cls: "answer-key", text: key }), row.value, row.source
  ]);
  if (editable) {
    row.input = el("input", { cls: "answer-input", data: { attribute: key }, attrs: { type: "text", maxlength: 300, placeholder: "New answer for " + key, "aria-label": "New answer for " + key } });
    row.button = el("button", { cls: "answer-edit", text: "Save", data: { attribute: key } });
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
  fact(card.facts, "Stage", orDash(lead.stage), "lead-stage");
  fact(card.facts, "Fit", orDash(lead.fit), "lead-fit");
  fact(card.facts, "Interest", orDash(lead.interest), "lead-interest");
  fact(card.facts, "Name", lead.name);
  fact(card.facts, "Email", lead.email ? lead.email + (lead.freemail ? " (freemail)" : "") : null);
  fact(card.facts, "Phone", lead.phone);

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
    "Version " + orDash(consent.version) + ", given " + dateTime(consent.given_at) + " via " + orDash(consent.channel) :
    "no consent";

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
        text: orDash(answer.source),
        attrs: { title: answer.at ? "recorded " + dateTime(answer.at) : "" }
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
