// Telling an agent about work while the console is not in view (issue 22, item 2).
//
// After each queue load (`noticeQueue`): a conversation that newly waits for this staff
// member (routed to them, or unassigned in their team's queue) and a new visitor message
// in a conversation they have (the queue's `last_visitor_message`) while the tab is
// hidden become a browser notification (the Notification API, once the agent allowed
// it with the button: browsers ask only on a click) and, if switched on, a short beep
// (WebAudio, no file: the CSP allows nothing else). The tab's title counts what waits
// for them plus the conversations with unread visitor messages: "(2) Lotse – …".
// The first load after logging in only takes note (no burst of old news). A
// notification names the conversation's number, language and channel, never what
// anyone wrote (it may show on a locked screen). The sound setting is kept in
// localStorage ("lotse.console.sound").

import { openConversation } from "./conversation.js";
import { $, el } from "./dom.js";
import { t } from "./i18n.js";
import { state } from "./state.js";

var SOUND_KEY = "lotse.console.sound";
var seen = null; // handoff id -> what was known of it at the last queue load
var unread = {}; // handoff id -> true while a visitor message waits to be read
var baseTitle = "";
var audio = null;
var controls = null;

function supported() {
  return typeof window.Notification === "function";
}

function hidden() {
  return document.visibilityState === "hidden";
}

export function soundOn() {
  try {
    return window.localStorage.getItem(SOUND_KEY) === "on";
  } catch (e) {
    return false;
  }
}

function setSound(on) {
  try {
    window.localStorage.setItem(SOUND_KEY, on ? "on" : "off");
  } catch (e) { /* storage blocked: the box still shows the choice for this page */ }
}

// A short two-tone beep. The audio context starts on a click (browsers allow no sound
// before the person did something on the page).
function unlockAudio() {
  var Context = window.AudioContext || window.webkitAudioContext;
  if (!audio && Context) {
    try {
      audio = new Context();
    } catch (e) {
      audio = null;
    }
  }
  if (audio && audio.state === "suspended") audio.resume();
}

export function beep() {
  if (!soundOn() || !audio) return;
  var now = audio.currentTime;
  [[880, 0], [660, 0.16]].forEach(function (tone) {
    var oscillator = audio.createOscillator();
    var gain = audio.createGain();
    oscillator.type = "sine";
    oscillator.frequency.value = tone[0];
    gain.gain.setValueAtTime(0.0001, now + tone[1]);
    gain.gain.exponentialRampToValueAtTime(0.2, now + tone[1] + 0.02);
    gain.gain.exponentialRampToValueAtTime(0.0001, now + tone[1] + 0.14);
    oscillator.connect(gain);
    gain.connect(audio.destination);
    oscillator.start(now + tone[1]);
    oscillator.stop(now + tone[1] + 0.15);
  });
}

function notify(title, body, handoffId) {
  beep();
  if (!supported() || window.Notification.permission !== "granted") return;
  try {
    var note = new window.Notification(title, { body: body, tag: "lotse-" + handoffId + "-" + title, lang: document.documentElement.lang });
    note.onclick = function () {
      window.focus();
      openConversation(handoffId);
      if (note.close) note.close();
    };
  } catch (e) { /* some browsers allow notifications only from a service worker */ }
}

function waitsForMe(handoff) {
  var me = state.me;
  return Boolean(me && me.staff_id && handoff.state === "waiting" &&
    (handoff.assignee === me.staff_id || !handoff.assignee));
}

function mine(handoff) {
  var me = state.me;
  return Boolean(me && me.staff_id && handoff.state === "human" && handoff.assignee === me.staff_id);
}

function about(handoff) {
  return t("Conversation #{id} · {language} · {channel}", {
    id: handoff.id,
    language: String(handoff.language || "–").toUpperCase(),
    channel: handoff.channel || "–"
  });
}

// After each queue load: what is new, and the count in the title.
export function noticeQueue(handoffs) {
  if (!state.me) return;
  var list = Array.isArray(handoffs) ? handoffs : [];
  var first = seen === null;
  var now = {};
  list.forEach(function (handoff) {
    var before = first ? null : seen[handoff.id];
    var waiting = waitsForMe(handoff);
    now[handoff.id] = { waiting: waiting, last: handoff.last_visitor_message || 0 };
    if (first) return;
    if (waiting && !(before && before.waiting)) {
      notify(handoff.assignee ? t("A conversation was routed to you") : t("A conversation waits in your team's queue"),
        about(handoff), handoff.id);
    }
    var wrote = mine(handoff) && before && now[handoff.id].last > before.last;
    var reading = handoff.id === state.openId && !hidden();
    if (wrote && !reading) {
      unread[handoff.id] = true;
      if (hidden()) notify(t("The visitor wrote"), about(handoff), handoff.id);
    }
  });
  Object.keys(unread).forEach(function (id) {
    if (!now[id] || !mine(list.filter(function (h) { return String(h.id) === id; })[0])) delete unread[id];
  });
  seen = now;
  showCount();
}

function showCount() {
  if (!baseTitle) baseTitle = document.title.replace(/^\(\d+\)\s*/, "");
  if (state.openId !== null && !hidden()) delete unread[state.openId];
  var count = Object.keys(unread).length;
  Object.keys(seen || {}).forEach(function (id) {
    if (seen[id].waiting && !unread[id]) count += 1;
  });
  document.title = count ? "(" + count + ") " + baseTitle : baseTitle;
}

function onVisible() {
  if (hidden()) return;
  if (state.openId !== null) delete unread[state.openId];
  showCount();
}

function renderControls() {
  if (!controls) return;
  var permission = supported() ? window.Notification.permission : "unsupported";
  controls.allow.hidden = permission !== "default";
  controls.blocked.hidden = permission !== "denied";
  controls.sound.checked = soundOn();
}

// Called when the app starts (logged in): the controls in the top bar.
export function startNotifications() {
  seen = null;
  unread = {};
  if (!controls) {
    var allow = el("button", { id: "notify-allow", cls: "notify-allow", text: t("Turn on notifications"), attrs: { type: "button" } });
    allow.addEventListener("click", function () {
      unlockAudio();
      if (!supported()) return;
      var asked = window.Notification.requestPermission(renderControls);
      if (asked && asked.then) asked.then(renderControls);
    });
    var blocked = el("span", { id: "notify-blocked", cls: "muted notify-blocked", text: t("Notifications are blocked in this browser") });
    var sound = el("input", { id: "notify-sound", attrs: { type: "checkbox" } });
    sound.addEventListener("change", function () {
      setSound(sound.checked);
      if (sound.checked) {
        unlockAudio();
        beep();
      }
    });
    var soundText = el("span", { text: t("Sound"), attrs: { "data-i18n": "" } });
    var label = el("label", { cls: "notify-sound", attrs: { for: "notify-sound" } }, [sound, soundText]);
    allow.setAttribute("data-i18n", "");
    blocked.setAttribute("data-i18n", "");
    // translatePage() follows a change of language from their English source texts.
    allow.dataset.i18nSource = "Turn on notifications";
    blocked.dataset.i18nSource = "Notifications are blocked in this browser";
    soundText.dataset.i18nSource = "Sound";
    controls = { root: el("span", { id: "notify-controls", cls: "notify-controls" }, [allow, blocked, label]), allow: allow, blocked: blocked, sound: sound };
    var logout = $("logout");
    logout.parentNode.insertBefore(controls.root, logout);
    document.addEventListener("visibilitychange", onVisible);
    document.addEventListener("click", unlockAudio, { once: true });
  }
  renderControls();
}

// Called when the session ends: nothing is remembered for the next login.
export function stopNotifications() {
  seen = null;
  unread = {};
  if (baseTitle) document.title = baseTitle;
}
