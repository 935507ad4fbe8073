// The console's languages: German and English from the translation catalogues
// (console/locale/<lang>/LC_MESSAGES/console.po, served as JSON at
// /console/locale/<lang>.json).
//
// Contract for every module: user-visible text is written as t(msgid, params) with the
// English source text as the msgid and `{name}` placeholders filled from params. t()
// returns the current language's translation, or the msgid itself
// when the catalogue has none (English has none to give). console.js awaits
// loadCatalogue(lang) before it renders anything.
//
// The language: the staff member's setting (me.language) once logged in, else the
// browser's (navigator.languages: German for de, de-AT, de-CH, ...; English otherwise).
//
// Static text in console.html carries `data-i18n` (its text is the msgid) or
// `data-i18n-attrs="placeholder title aria-label"` (each attribute's English value is
// the msgid); translatePage() translates them, also after a language change.

export const LANGUAGES = ["de", "en"];
const LOCALES = { de: "de-DE", en: "en-GB" };
const ATTRS = ["placeholder", "title", "aria-label"];

var language = "en";
var messages = {};

export function currentLanguage() {
  return language;
}

export function locale() {
  return LOCALES[language] || LOCALES.en;
}

export function supported(lang) {
  return LANGUAGES.indexOf(lang) >= 0 ? lang : null;
}

export function browserLanguage() {
  var wanted = (navigator.languages && navigator.languages.length) ? navigator.languages : [navigator.language || ""];
  for (var i = 0; i < wanted.length; i += 1) {
    var primary = String(wanted[i] || "").toLowerCase().split("-")[0];
    if (primary === "de") return "de";
    if (primary === "en") return "en";
  }
  return "en";
}

function fill(text, params) {
  if (!params) return text;
  return text.replace(/\{([a-z_][a-z0-9_]*)\}/gi, function (whole, name) {
    return Object.prototype.hasOwnProperty.call(params, name) && params[name] !== null && params[name] !== undefined ?
      String(params[name]) : whole;
  });
}

// The translation of `msgid` (the English text) with its {placeholders} filled.
export function t(msgid, params) {
  var text = Object.prototype.hasOwnProperty.call(messages, msgid) && messages[msgid] ? messages[msgid] : msgid;
  return fill(text, params);
}

// Loads the catalogue of `lang` (falls back to the browser's language, then English)
// and makes it current. Never rejects: without a catalogue the console stays English.
export async function loadCatalogue(lang) {
  var wanted = supported(lang) || browserLanguage();
  var loaded = {};
  if (wanted !== "en") {
    try {
      var reply = await fetch("/console/locale/" + wanted + ".json", {
        credentials: "same-origin",
        headers: { Accept: "application/json" }
      });
      if (reply.ok) {
        var data = await reply.json();
        loaded = data && typeof data.messages === "object" && data.messages ? data.messages : {};
      } else {
        wanted = "en";
      }
    } catch (e) {
      wanted = "en";
    }
  }
  language = wanted;
  messages = loaded;
  document.documentElement.lang = language;
  translatePage(document);
  return language;
}

// Translates the static text marked in the page (see the header).
export function translatePage(root) {
  var nodes = (root || document).querySelectorAll("[data-i18n], [data-i18n-attrs]");
  for (var i = 0; i < nodes.length; i += 1) {
    var node = nodes[i];
    if (node.hasAttribute("data-i18n")) {
      if (!node.dataset.i18nSource) node.dataset.i18nSource = node.textContent.trim();
      node.textContent = t(node.dataset.i18nSource);
    }
    var attrs = (node.getAttribute("data-i18n-attrs") || "").split(/\s+/);
    for (var j = 0; j < attrs.length; j += 1) {
      var name = attrs[j];
      if (ATTRS.indexOf(name) < 0 || !node.hasAttribute(name)) continue;
      var key = "i18nSource" + name.replace(/(^|-)([a-z])/g, function (m, dash, c) { return c.toUpperCase(); });
      if (!node.dataset[key]) node.dataset[key] = node.getAttribute(name);
      node.setAttribute(name, t(node.dataset[key]));
    }
  }
}

// -- numbers, dates and times in the current language's format ----------------------

export function formatNumber(value, options) {
  if (value === null || value === undefined || value === "" || isNaN(Number(value))) return "–";
  return new Intl.NumberFormat(locale(), options || {}).format(Number(value));
}

export function formatPercent(fraction, digits) {
  return formatNumber(fraction, { style: "percent", maximumFractionDigits: digits === undefined ? 0 : digits });
}

export function formatDateTime(date) {
  return new Intl.DateTimeFormat(locale(), {
    year: "numeric", month: "2-digit", day: "2-digit", hour: "2-digit", minute: "2-digit"
  }).format(date);
}

export function formatDate(date) {
  return new Intl.DateTimeFormat(locale(), { year: "numeric", month: "2-digit", day: "2-digit" }).format(date);
}

export function formatTime(date) {
  return new Intl.DateTimeFormat(locale(), { hour: "2-digit", minute: "2-digit" }).format(date);
}

// Marks a msgid where it is defined (a table of labels) for the catalogue test; the
// text is translated with t() where it is shown.
export function N_(msgid) {
  return msgid;
}

// A text the server wrote in English (an error, a recorded explanation): its
// translation when the catalogue has the text itself, else the first of `templates`
// (msgids with {placeholders}) it fits, translated with the values it holds; else the
// text as it is.
export function translateText(text, templates) {
  var whole = t(text);
  if (whole !== text) return whole;
  var list = templates || [];
  for (var i = 0; i < list.length; i += 1) {
    var params = matchTemplate(list[i], text);
    if (params) return t(list[i], params);
  }
  return text;
}

// The {placeholders} of `template` as found in `text`, or null when it does not fit.
export function matchTemplate(template, text) {
  var names = [];
  var pattern = String(template).replace(/[.*+?^$()|[\]\\]/g, "\\$&").replace(/\{(\w+)\}/g, function (_, name) {
    names.push(name);
    return "([\\s\\S]+?)";
  });
  var found = new RegExp("^" + pattern + "$").exec(String(text));
  if (!found) return null;
  var params = {};
  names.forEach(function (name, index) {
    params[name] = found[index + 1];
  });
  return params;
}
