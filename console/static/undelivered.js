// The admin's list of the messengers' dead letters: messages the relay gave up on (the
// platform refused them, sent them without an answer, stayed busy for an hour, or they
// were too old to send), the bot's answers as well as staff messages. The person has
// not seen them: staff reach them another way. GET /console/api/undelivered.

import { api, errorText } from "./api.js";
import { clear, el } from "./dom.js";
import { formatDateTime, t } from "./i18n.js";

var PLATFORMS = { telegram: "Telegram", facebook: "Facebook Messenger", twilio: "WhatsApp",
  slack: "Slack", botframework: "Microsoft Teams" };
var panel = null;

function sender(from) {
  if (from === "bot") return t("by the bot");
  if (from === "agent") return t("by staff");
  if (from === "system") return t("a notice");
  return "–";
}

// What the platform said (its own words) and the message are data, not the console's
// texts: marked translate="no".
function why(kind, reason) {
  var text = {
    refused: t("refused by the platform"),
    unknown: t("sent without an answer: it may or may not have arrived"),
    busy: t("the platform did not take it for an hour"),
    expired: t("too old to send"),
    gone: t("the conversation is gone")
  }[kind] || t("not delivered");
  return el("div", { cls: "undelivered-why" }, [
    document.createTextNode(text),
    reason ? el("span", { cls: "undelivered-reason", text: " (" + reason + ")", attrs: { translate: "no" } }) : null
  ]);
}

function item(letter) {
  var written = letter.written_at ? formatDateTime(new Date(letter.written_at)) : "–";
  var where = (PLATFORMS[letter.channel] || letter.channel) + " · " + letter.conversation_id;
  var excerpt = el("q", { cls: "undelivered-excerpt", text: letter.excerpt || "", attrs: { translate: "no" } });
  var link = letter.handoff_id ? el("a", { text: t("open the conversation"), attrs: { href: "#handoff-" + letter.handoff_id } }) : null;
  return el("li", { cls: "undelivered-item" }, [
    el("div", { cls: "undelivered-where", text: where, attrs: { translate: "no" } }),
    el("div", { cls: "muted", text: written + " · " + sender(letter.from) }),
    excerpt,
    why(letter.kind, letter.reason),
    link
  ]);
}

export function buildUndeliveredPanel() {
  var list = el("ul", { id: "undelivered-list", cls: "undelivered-list" });
  var status = el("p", { id: "undelivered-status", cls: "muted", attrs: { role: "status" } });
  var reload = el("button", { id: "undelivered-reload", text: t("Reload") });
  reload.type = "button";
  reload.addEventListener("click", loadUndelivered);
  panel = { list: list, status: status };
  panel.root = el("section", { id: "undelivered", cls: "panel undelivered-panel", attrs: { "aria-labelledby": "undelivered-title" } }, [
    el("h2", { id: "undelivered-title", text: t("Undelivered messages") }),
    el("p", { cls: "muted", text: t("Messages the messengers did not take. The person has not seen them: please reach them another way.") }),
    reload,
    status,
    list
  ]);
  return panel.root;
}

export async function loadUndelivered() {
  var p = panel;
  if (!p) return;
  var result = await api("GET", "/undelivered");
  if (result.stale || result.status === 401 || p !== panel) return;
  clear(p.list);
  if (!result.ok) {
    p.status.textContent = errorText(result, t("The undelivered messages could not be loaded"));
    return;
  }
  var letters = Array.isArray(result.data.undelivered) ? result.data.undelivered : [];
  p.status.textContent = letters.length ? "" : t("Every message reached its messenger.");
  letters.forEach(function (letter) { p.list.appendChild(item(letter)); });
}

export function dropUndeliveredPanel() {
  if (panel && panel.root.parentNode) panel.root.parentNode.removeChild(panel.root);
  panel = null;
}
