// Prepared answers (bot/data/canned_responses.yml, GET /canned-responses): "/" at the
// start of the reply box opens a list filtered by what follows; arrow keys choose,
// Enter or Tab puts the chosen answer's text in the reply box (it is not sent), Escape
// closes. Placeholders are filled the way handoff/canned_responses.py renders them:
// only the known names, one pass, a missing value empty with the space before it.
// Admins edit the answers in a panel of their own (buildCannedPanel).

import { api, errorText } from "./api.js";
import { button, clear, el } from "./dom.js";
import { currentLanguage, t } from "./i18n.js";
import { state } from "./state.js";

var MAX_SHOWN = 8;
var MAX_VALUE_CHARS = 200;
var LANGUAGES = ["de", "en"];
var canned = { data: null, loading: null };

export function loadCanned(force) {
  if (canned.loading && !force) return canned.loading;
  canned.loading = api("GET", "/canned-responses").then(function (result) {
    if (result.ok && Array.isArray(result.data.responses)) canned.data = result.data;
    else canned.loading = null; // try again on the next "/"
    return result;
  });
  return canned.loading;
}

function answerOf(lead, key) {
  var answer = lead && lead.answers ? lead.answers[key] : null;
  return answer && (!answer.status || answer.status === "answered") ? answer.value : null;
}

// What the open conversation knows for each placeholder ("" when nothing).
export function placeholderValues(language) {
  var detail = state.detail || {};
  var lead = detail.lead || null;
  var need = answerOf(lead, "need");
  var line = need && typeof need === "object" ? need.product_line : null;
  var products = (canned.data && canned.data.products) || {};
  var company = answerOf(lead, "company");
  return {
    visitor_name: lead && typeof lead.name === "string" ? lead.name : "",
    company: typeof company === "string" ? company : "",
    product: line && products[line] ? products[line][language] || "" : "",
    agent_name: state.me ? state.me.name || state.me.username || "" : ""
  };
}

export function renderCanned(template, values, names) {
  var pattern = new RegExp("( ?)\\{(" + names.join("|") + ")\\}", "g");
  return String(template).replace(pattern, function (_match, space, name) {
    var value = values[name] === null || values[name] === undefined ? "" : String(values[name]);
    value = value.split(/\s+/).filter(Boolean).join(" ").slice(0, MAX_VALUE_CHARS);
    return value ? space + value : "";
  });
}

function language() {
  var handoff = state.detail && state.detail.handoff;
  return handoff && LANGUAGES.indexOf(handoff.language) >= 0 ? handoff.language : "de";
}

function matches(answer, query, lang) {
  var haystack = (answer.key + " " + (answer.title[lang] || "") + " " + (answer.text[lang] || "")).toLowerCase();
  return query.toLowerCase().split(/\s+/).filter(Boolean).every(function (word) {
    return haystack.indexOf(word) >= 0;
  });
}

// -- the "/" list under the reply box ----------------------------------------------

export function attachCanned(textarea, box) {
  var list = el("ul", { id: "canned-list", cls: "canned-list", attrs: { role: "listbox", "aria-label": t("Prepared answers") } });
  list.hidden = true;
  box.insertBefore(list, textarea.nextSibling);
  var shown = [];
  var chosen = 0;

  function close() {
    list.hidden = true;
    shown = [];
    clear(list);
  }

  function insert(answer) {
    var lang = language();
    var names = canned.data.placeholders || [];
    textarea.value = renderCanned(answer.text[lang] || "", placeholderValues(lang), names);
    close();
    textarea.focus();
    textarea.setSelectionRange(textarea.value.length, textarea.value.length);
  }

  function show() {
    var value = textarea.value;
    if (value.charAt(0) !== "/" || value.indexOf("\n") >= 0) return close();
    if (!canned.data) {
      loadCanned().then(function () {
        if (canned.data && textarea.value.charAt(0) === "/") show();
      });
      return;
    }
    var lang = language();
    shown = canned.data.responses.filter(function (answer) {
      return matches(answer, value.slice(1), lang);
    }).slice(0, MAX_SHOWN);
    chosen = Math.min(chosen, Math.max(0, shown.length - 1));
    clear(list);
    if (!shown.length) list.appendChild(el("li", { cls: "canned-none muted", text: t("No prepared answer matches.") }));
    shown.forEach(function (answer, index) {
      var item = el("li", {
        cls: "canned-item" + (index === chosen ? " chosen" : ""),
        attrs: { role: "option", "aria-selected": index === chosen ? "true" : "false" },
        data: { key: answer.key }
      }, [
        el("span", { cls: "canned-title", text: answer.title[lang] || answer.key }),
        el("span", { cls: "canned-text muted", text: answer.text[lang] || "" })
      ]);
      item.addEventListener("mousedown", function (event) {
        event.preventDefault(); // keep the focus in the reply box
        insert(answer);
      });
      list.appendChild(item);
    });
    list.hidden = false;
  }

  textarea.addEventListener("input", function () {
    chosen = 0;
    show();
  });
  textarea.addEventListener("blur", close);
  // Captured on the box, before the reply box's own Enter-sends handler.
  box.addEventListener("keydown", function (event) {
    if (event.target !== textarea || list.hidden) return;
    var key = event.key;
    if (key === "Escape") {
      close();
    } else if ((key === "ArrowDown" || key === "ArrowUp") && shown.length) {
      chosen = (chosen + (key === "ArrowDown" ? 1 : shown.length - 1)) % shown.length;
      show();
    } else if ((key === "Enter" || key === "Tab") && !event.isComposing && shown.length) {
      insert(shown[chosen]);
    } else {
      return;
    }
    event.preventDefault();
    event.stopPropagation();
  }, true);
}

// -- the admins' editor ---------------------------------------------------------------

export function buildCannedPanel() {
  var p = {};
  p.list = el("ul", { id: "canned-admin-list", cls: "canned-admin-list" });
  p.status = el("p", { id: "canned-status", cls: "users-status", attrs: { role: "status" } });
  p.key = el("input", { id: "canned-key", attrs: { type: "text", maxlength: 40, autocomplete: "off", spellcheck: "false" } });
  p.fields = {};
  LANGUAGES.forEach(function (lang) {
    p.fields["title_" + lang] = el("input", { id: "canned-title-" + lang, attrs: { type: "text", maxlength: 80 } });
    p.fields["text_" + lang] = el("textarea", { id: "canned-text-" + lang, attrs: { rows: 3, maxlength: 2000 } });
  });
  p.save = el("button", { id: "canned-save", cls: "primary", text: t("Save answer") });
  p.save.type = "submit";
  function field(label, input, hint) {
    return el("label", { cls: "field" }, [el("span", { text: label }), input, hint ? el("small", { cls: "muted", text: hint }) : null]);
  }
  var placeholders = "{visitor_name} {company} {product} {agent_name}";
  p.form = el("form", { id: "canned-form", cls: "user-form", attrs: { novalidate: "" } }, [
    el("h3", { text: t("Add or change an answer") }),
    field(t("Key"), p.key, t("a–z, 0–9, _; an existing key is replaced")),
    field(t("Title (German)"), p.fields.title_de),
    field(t("Text (German)"), p.fields.text_de, t("placeholders: {names}", { names: placeholders })),
    field(t("Title (English)"), p.fields.title_en),
    field(t("Text (English)"), p.fields.text_en),
    p.save
  ]);
  p.form.addEventListener("submit", function (event) {
    event.preventDefault();
    saveAnswer(p);
  });
  p.root = el("section", { id: "canned", cls: "panel users-panel", attrs: { "aria-labelledby": "canned-title" } }, [
    el("h2", { id: "canned-title", text: t("Prepared answers") }),
    p.list,
    p.status,
    p.form
  ]);
  showAnswers(p);
  return p.root;
}

function message(p, text, kind) {
  p.status.textContent = text || "";
  p.status.className = "users-status" + (kind ? " status-" + kind : "");
}

async function showAnswers(p, force) {
  var result = await loadCanned(force);
  if (result.stale || result.status === 401) return;
  if (!result.ok || !canned.data) {
    message(p, errorText(result, t("The prepared answers could not be loaded")), "error");
    return;
  }
  clear(p.list);
  canned.data.responses.forEach(function (answer) {
    var edit = button(t("Edit"), null, "canned-edit");
    edit.addEventListener("click", function () {
      p.key.value = answer.key;
      LANGUAGES.forEach(function (lang) {
        p.fields["title_" + lang].value = answer.title[lang] || "";
        p.fields["text_" + lang].value = answer.text[lang] || "";
      });
      p.key.focus();
    });
    var remove = button(t("Delete"), null, "canned-delete");
    remove.addEventListener("click", function () {
      deleteAnswer(p, answer.key, remove);
    });
    p.list.appendChild(el("li", { cls: "canned-admin-item", data: { key: answer.key } }, [
      el("span", { cls: "canned-title", text: answer.title[currentLanguage()] || answer.title.de || answer.key }),
      el("span", { cls: "muted", text: " /" + answer.key + " " }),
      edit,
      remove
    ]));
  });
}

async function saveAnswer(p) {
  if (p.save.disabled) return;
  var key = p.key.value.trim();
  var body = { title: {}, text: {} };
  LANGUAGES.forEach(function (lang) {
    body.title[lang] = p.fields["title_" + lang].value;
    body.text[lang] = p.fields["text_" + lang].value;
  });
  if (!/^[a-z0-9_]{1,40}$/.test(key)) {
    message(p, t("The key must be 1–40 characters: a–z, 0–9, _."), "error");
    return;
  }
  p.save.disabled = true;
  var result = await api("PUT", "/canned-responses/" + encodeURIComponent(key), body);
  p.save.disabled = false;
  if (result.stale || result.status === 401) return;
  if (!result.ok) {
    message(p, errorText(result, t("The answer was not saved")), "error");
    return;
  }
  p.form.reset();
  message(p, t("Answer /{key} saved.", { key: key }), "ok");
  showAnswers(p, true);
}

async function deleteAnswer(p, key, control) {
  control.disabled = true;
  var result = await api("DELETE", "/canned-responses/" + encodeURIComponent(key));
  control.disabled = false;
  if (result.stale || result.status === 401) return;
  if (!result.ok) {
    message(p, errorText(result, t("The answer was not deleted")), "error");
    return;
  }
  message(p, t("Answer /{key} deleted.", { key: key }), "ok");
  showAnswers(p, true);
}
