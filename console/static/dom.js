// Small DOM helpers: elements built with text only ever through textContent.

import { currentLanguage, formatDateTime, formatTime, t } from "./i18n.js";
import { STAGE_NAMES, STATE_NAMES, STATE_TITLES, state } from "./state.js";

// -- small DOM helpers (text only ever through textContent) -------------------------

export function $(id) {
  return document.getElementById(id);
}

export function el(tag, options, children) {
  var node = document.createElement(tag);
  var o = options || {};
  if (o.id) node.id = o.id;
  if (o.cls) node.className = o.cls;
  if (o.text !== undefined && o.text !== null) node.textContent = String(o.text);
  if (o.attrs) {
    Object.keys(o.attrs).forEach(function (name) {
      node.setAttribute(name, String(o.attrs[name]));
    });
  }
  if (o.data) {
    Object.keys(o.data).forEach(function (name) {
      node.dataset[name] = String(o.data[name]);
    });
  }
  (children || []).forEach(function (child) {
    if (child) node.appendChild(child);
  });
  return node;
}

export function button(text, id, cls) {
  var node = el("button", { id: id, cls: cls, text: text });
  node.type = "button";
  return node;
}

export function option(value, text, cls) {
  var node = el("option", { cls: cls, text: text });
  node.value = value;
  return node;
}

export function clear(node) {
  while (node.firstChild) node.removeChild(node.firstChild);
}

export function token(value) {
  // A server value used in a class name: letters, digits, '_' and '-' only.
  return String(value === null || value === undefined ? "none" : value).replace(/[^A-Za-z0-9_-]/g, "_");
}

export function badge(stateName) {
  return el("span", {
    cls: "badge state-" + token(stateName),
    text: STATE_NAMES[stateName] ? t(STATE_NAMES[stateName]) : (stateName || "?"),
    attrs: { title: STATE_TITLES[stateName] ? t(STATE_TITLES[stateName]) : "" }
  });
}

export function pad(number) {
  return String(number).padStart(2, "0");
}

export function toDate(iso) {
  if (!iso) return null;
  var date = new Date(iso);
  return isNaN(date.getTime()) ? null : date;
}

export function clock(iso) {
  var date = toDate(iso);
  if (date && currentLanguage() === "de") return formatTime(date);
  return date ? pad(date.getHours()) + ":" + pad(date.getMinutes()) : "";
}

export function dateTime(iso) {
  var date = toDate(iso);
  if (!date) return "–";
  if (currentLanguage() === "de") return formatDateTime(date).replace(",", ""); // 07.12.2026 14:05
  return date.getFullYear() + "-" + pad(date.getMonth() + 1) + "-" + pad(date.getDate()) +
    " " + pad(date.getHours()) + ":" + pad(date.getMinutes());
}

export function minutesSeconds(seconds) {
  var total = Math.max(0, Math.floor(seconds));
  return pad(Math.floor(total / 60)) + ":" + pad(total % 60);
}

// A lifecycle stage in words, "–" for none.
export function stageName(code) {
  return STAGE_NAMES[code] ? t(STAGE_NAMES[code]) : orDash(code);
}

export function orDash(value) {
  return value === null || value === undefined || value === "" ? "–" : String(value);
}

export function isMine(handoff) {
  return Boolean(state.me && state.me.staff_id && handoff && handoff.assignee === state.me.staff_id);
}

export function routedTo(handoff) {
  var you = isMine(handoff) ? " " + t("(you)") : "";
  if (handoff.assignee_name) return handoff.assignee_name + you;
  if (handoff.assignee) return handoff.assignee + you;
  return t("team queue: {team}", { team: orDash(handoff.team_label || handoff.team) });
}
