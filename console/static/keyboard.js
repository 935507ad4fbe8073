// Working the queue without the mouse (issue 22, item 7).
//
//   Alt+N  open the next conversation waiting for you      Alt+Q  go to the queue (↑/↓ move)
//   Alt+C  claim the open conversation                     Alt+R  go to the reply box
//   Alt+H  hand it back to the bot                         Alt+X  close: outcome, then Alt+X again
//   Enter or Ctrl+Enter  send the reply                    Esc    back to the queue (from the conversation)
//   ?      this list (outside text fields)
//
// Keys are read by their position (`event.code`), so Alt+C works on German and Mac
// keyboards too. "/" stays the reply box's (prepared answers: canned.js); a shortcut
// never fires while the prepared answers' list is open, nor Esc inside a text field.

import { $, el } from "./dom.js";
import { N_, t } from "./i18n.js";
import { backToQueue } from "./live.js";
import { openConversation } from "./conversation.js";
import { state, ui } from "./state.js";

var SHORTCUTS = [
  ["Alt+N", N_("Open the next conversation waiting for you")],
  ["Alt+Q", N_("Go to the queue (↑ and ↓ move through it)")],
  ["Alt+C", N_("Claim the open conversation")],
  ["Alt+R", N_("Go to the reply box")],
  [N_("Enter / Ctrl+Enter"), N_("Send the reply")],
  ["Alt+H", N_("Hand the conversation back to the bot")],
  ["Alt+X", N_("Close: choose the outcome, then Alt+X again")],
  ["Esc", N_("Back to the queue")],
  ["?", N_("Show or hide these shortcuts")]
];
var help = null;

function usable(node) {
  return Boolean(node && node.isConnected && !node.disabled && !node.closest("[hidden]"));
}

function editing(target) {
  return Boolean(target && (target.isContentEditable || /^(INPUT|TEXTAREA|SELECT)$/.test(target.tagName)));
}

function press(node) {
  if (usable(node)) {
    node.click();
    return true;
  }
  return false;
}

function focus(node) {
  if (usable(node)) {
    node.focus();
    return true;
  }
  return false;
}

function queueItems() {
  return Array.prototype.slice.call(document.querySelectorAll("#queue .queue-item"));
}

function nextWaiting() {
  var handoffs = state.queue && Array.isArray(state.queue.handoffs) ? state.queue.handoffs : [];
  var me = state.me || {};
  var waiting = handoffs.filter(function (h) {
    return h.state === "waiting" && h.id !== state.openId && (!me.staff_id || !h.assignee || h.assignee === me.staff_id);
  });
  if (!waiting.length) return false;
  openConversation(waiting[0].id);
  return true;
}

function closeStep(c) {
  var row = c.close.parentNode;
  if (row && row.contains(document.activeElement)) return press(c.close);
  return focus(c.closeOutcome);
}

function onAlt(code) {
  var c = ui.conv;
  switch (code) {
    case "KeyN": return nextWaiting();
    case "KeyQ": return focus(document.querySelector("#queue .queue-item.active") || queueItems()[0]);
    case "KeyC": return Boolean(c) && press(c.claim);
    case "KeyR": return Boolean(c) && focus(c.replyText);
    case "KeyH": return Boolean(c) && press(c.handBack);
    case "KeyX": return Boolean(c) && closeStep(c);
    default: return false;
  }
}

function moveInQueue(target, key) {
  var items = queueItems();
  var index = items.indexOf(target);
  if (index < 0) return false;
  var next = items[index + (key === "ArrowDown" ? 1 : -1)];
  return focus(next);
}

export function toggleHelp(show) {
  if (!help) {
    var rows = SHORTCUTS.map(function (pair) {
      return el("tr", {}, [el("th", {}, [el("kbd", { text: t(pair[0]) })]), el("td", { text: t(pair[1]) })]);
    });
    var close = el("button", { id: "shortcuts-close", text: t("Close the list"), attrs: { type: "button" } });
    close.addEventListener("click", function () {
      toggleHelp(false);
    });
    help = el("div", { id: "shortcuts", cls: "shortcuts", attrs: { role: "dialog", "aria-modal": "false", "aria-labelledby": "shortcuts-title" } }, [
      el("h2", { id: "shortcuts-title", text: t("Keyboard shortcuts") }),
      el("table", {}, [el("tbody", {}, rows)]),
      close
    ]);
    help.hidden = true;
    document.body.appendChild(help);
  }
  var shown = show === undefined ? help.hidden : show;
  help.hidden = !shown;
  if (shown) help.querySelector("button").focus();
}

function onKey(event) {
  if (!state.me || event.defaultPrevented || event.isComposing) return;
  var target = event.target;
  var cannedOpen = document.querySelector("#canned-list:not([hidden])");
  var done = false;
  if (event.altKey && !event.ctrlKey && !event.metaKey && !cannedOpen) {
    done = onAlt(event.code);
  } else if (event.key === "Enter" && event.ctrlKey && ui.conv && target === ui.conv.replyText && !cannedOpen) {
    done = press(ui.conv.replySend);
  } else if (event.key === "Escape" && help && !help.hidden) {
    toggleHelp(false);
    done = true;
  } else if (event.key === "Escape" && !editing(target) && state.openId !== null) {
    backToQueue();
    done = true;
  } else if (event.key === "?" && !editing(target)) {
    toggleHelp();
    done = true;
  } else if ((event.key === "ArrowDown" || event.key === "ArrowUp") && target.classList &&
             target.classList.contains("queue-item")) {
    done = moveInQueue(target, event.key);
  }
  if (done) event.preventDefault();
}

// The shortcuts' names on the controls they press (tooltips and aria-keyshortcuts).
export function labelShortcuts(c) {
  [[c.claim, "Alt+C"], [c.handBack, "Alt+H"], [c.close, "Alt+X"], [c.closeOutcome, "Alt+X"],
    [c.replyText, "Alt+R"], [c.replySend, "Control+Enter"]].forEach(function (pair) {
    if (!pair[0]) return;
    pair[0].setAttribute("aria-keyshortcuts", pair[1]);
    pair[0].title = pair[1] === "Control+Enter" ? t("Ctrl+Enter") : pair[1];
  });
}

// Once, at start: the keys and the "Shortcuts" button in the top bar.
export function installKeyboard() {
  document.addEventListener("keydown", onKey);
  var open = el("button", { id: "shortcuts-open", cls: "shortcuts-open", text: t("Shortcuts"), attrs: { type: "button", "aria-keyshortcuts": "?", title: "?", "data-i18n": "" } });
  open.dataset.i18nSource = "Shortcuts"; // translatePage() follows a change of language
  open.addEventListener("click", function () {
    toggleHelp();
  });
  var logout = $("logout");
  logout.parentNode.insertBefore(open, logout);
}
