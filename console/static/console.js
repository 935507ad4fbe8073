// Lotse staff console: a dependency-free client of the console API (/console/api, see
// console/openapi.yaml). Plain ES2017 modules, no
// build step: this file starts the app, the others (imported) hold its parts.
//
// Security: every text that comes from the server (visitor messages, names, notes,
// answers, explanations) is inserted with textContent only, never as HTML. The session is
// an HttpOnly cookie; every request that changes something is JSON and carries the
// session's CSRF token in X-CSRF-Token. Personal data is removed from the page when the
// session ends.
//
// Live updates: one EventSource on /console/api/events; each `change` event re-fetches
// the queue and the open conversation. Fetches never overlap: a change that arrives
// while one runs marks the view dirty and it is fetched once more afterwards.

import { api, errorText } from "./api.js";
import { browserLanguage, currentLanguage, loadCatalogue, t } from "./i18n.js";
import { buildCannedPanel } from "./canned.js";
import { loadDetail, openConversation } from "./conversation.js";
import { $, clear, el, minutesSeconds, token } from "./dom.js";
import { installKeyboard } from "./keyboard.js";
import { onTypingEvent } from "./live.js";
import { startNotifications, stopNotifications } from "./notifications.js";
import { buildPrivacyPanel } from "./privacy.js";
import { loadQueue, onPresence } from "./queue.js";
import { API, MAX_RETRY_MS, state, ui } from "./state.js";
import { buildUndeliveredPanel, dropUndeliveredPanel, loadUndelivered } from "./undelivered.js";
import { buildUsersPanel, loadUsers } from "./users.js";

// -- status line --------------------------------------------------------------------

export function setStatus(message, kind) {
  var line = $("status-line");
  if (state.statusTimer) clearTimeout(state.statusTimer);
  state.statusTimer = null;
  line.textContent = message || "";
  line.className = "status-line" + (message ? " status-" + (kind || "info") : "");
  if (message && kind === "ok") {
    state.statusTimer = setTimeout(function () {
      state.statusTimer = null;
      if (line.textContent === message) setStatus("");
    }, 8000);
  }
}

// -- login and session --------------------------------------------------------------

export function showLogin(message) {
  stopApp();
  var view = $("login-view");
  var wasHidden = view.hidden;
  $("boot").hidden = true;
  $("app").hidden = true;
  view.hidden = false;
  $("login-error").textContent = message || "";
  $("login-password").value = "";
  $("login-submit").disabled = false;
  if (wasHidden) {
    ($("login-username").value ? $("login-password") : $("login-username")).focus();
  }
}

export function sessionEnded() {
  showLogin(state.me ? t("Your session has ended. Please log in again.") : "");
}

export async function onLogin(event) {
  event.preventDefault();
  var submit = $("login-submit");
  var errorLine = $("login-error");
  var username = $("login-username").value.trim();
  var password = $("login-password").value;
  if (!username || !password) {
    errorLine.textContent = t("Enter your username and password.");
    return;
  }
  if (submit.disabled) return;
  submit.disabled = true;
  errorLine.textContent = "";
  var result = await api("POST", "/login", { username: username, password: password });
  submit.disabled = false;
  if (!result.ok) {
    errorLine.textContent = errorText(result, t("Logging in did not work"));
    $("login-password").value = "";
    $("login-password").focus();
    return;
  }
  $("login-password").value = "";
  state.csrf = result.data.csrf_token || "";
  var user = result.data.user || {};
  var me = await api("GET", "/me");
  if (me.status === 401) return;
  if (me.ok) await loadCatalogue(me.data.language);
  startApp(me.ok ? me.data : {
    username: user.username,
    role: user.role,
    staff_id: user.staff_id,
    name: user.username,
    csrf_token: state.csrf
  });
}

export async function onLogout() {
  $("logout").disabled = true;
  await api("POST", "/logout", {});
  $("logout").disabled = false;
  if (currentLanguage() !== browserLanguage()) await loadCatalogue(null); // the login page: the browser's
  try {
    window.history.replaceState(null, "", "#");
  } catch (e) { /* see openConversation */ }
  showLogin("");
}

export async function boot() {
  var result = await api("GET", "/me");
  if (result.status === 401) return; // api() has shown the login form
  if (!result.ok) {
    $("boot").textContent = errorText(result, t("The console could not start")) + " " + t("Trying again…");
    setTimeout(boot, 5000);
    return;
  }
  await loadCatalogue(result.data.language);
  startApp(result.data);
}

export function startApp(me) {
  stopApp();
  state.me = me;
  state.csrf = me.csrf_token || state.csrf;
  $("boot").hidden = true;
  $("login-view").hidden = true;
  $("app").hidden = false;
  $("login-error").textContent = "";
  $("me-name").textContent = me.name || me.username || "";
  $("me-role").textContent = me.role === "admin" ? t("(admin)") : "";
  $("language").value = me.language || "";
  var presence = $("presence");
  presence.disabled = !me.staff_id;
  presence.title = me.staff_id ? t("Whether new conversations are routed to you") :
    t("This login is not linked to a staff member");
  if (me.role === "admin") {
    // The insights dashboard (/console/insights) is for admins; back there after a
    // login it sent here.
    if (/[?&]next=insights\b/.test(window.location.search || "")) {
      window.location.assign("/console/insights");
      return;
    }
    $("insights-link").hidden = false;
    ui.usersPanel = buildUsersPanel();
    $("left").appendChild(ui.usersPanel.root);
    loadUsers();
    ui.privacyPanel = buildPrivacyPanel();
    $("left").appendChild(ui.privacyPanel.root);
    $("left").appendChild(buildCannedPanel());
    $("left").appendChild(buildUndeliveredPanel());
    loadUndelivered();
  }
  state.ticker = setInterval(tick, 1000);
  startNotifications();
  connect();
  refresh();
  var wanted = /^#handoff-(\d+)$/.exec(window.location.hash || "");
  if (wanted) openConversation(Number(wanted[1]));
}

export function stopApp() {
  state.generation += 1;
  disconnect();
  if (state.ticker) clearInterval(state.ticker);
  if (state.statusTimer) clearTimeout(state.statusTimer);
  state.ticker = null;
  state.statusTimer = null;
  state.me = null;
  state.csrf = "";
  state.queue = null;
  state.openId = null;
  state.detail = null;
  state.running = false;
  state.dirty = false;
  state.presencePending = false;
  state.users = null;
  ui.conv = null;
  // Nothing personal stays on the page once the session is over.
  clear($("queue"));
  $("queue-count").textContent = "";
  clear($("conversation"));
  $("conversation").appendChild(el("p", { cls: "placeholder", text: t("Choose a conversation from the queue.") }));
  $("me-name").textContent = "";
  $("me-role").textContent = "";
  setStatus("");
  stopNotifications();
  if (ui.usersPanel && ui.usersPanel.root.parentNode) ui.usersPanel.root.parentNode.removeChild(ui.usersPanel.root);
  ui.usersPanel = null;
  // The panel's input may hold a person's email or number: it goes with the session.
  if (ui.privacyPanel && ui.privacyPanel.root.parentNode) ui.privacyPanel.root.parentNode.removeChild(ui.privacyPanel.root);
  ui.privacyPanel = null;
  dropUndeliveredPanel();
  var cannedPanel = $("canned");
  if (cannedPanel) cannedPanel.parentNode.removeChild(cannedPanel);
  var problem = $("queue-error");
  if (problem) problem.parentNode.removeChild(problem);
  setConnection("offline");
}

// -- live updates -------------------------------------------------------------------

export function setConnection(kind) {
  var node = $("connection");
  var texts = { live: t("live"), connecting: t("connecting…"), reconnecting: t("reconnecting…"), offline: t("offline") };
  node.textContent = texts[kind] || kind;
  node.className = "connection connection-" + token(kind);
}

export function connect() {
  disconnect();
  if (!window.EventSource) {
    setConnection("offline");
    return;
  }
  var generation = state.generation;
  var source = new EventSource(API + "/events");
  state.source = source;
  setConnection("connecting");
  source.onopen = function () {
    if (source !== state.source) return;
    state.retry = 0;
    setConnection("live");
    refresh(); // also after an automatic reconnect: changes may have been missed
  };
  source.addEventListener("change", function () {
    if (source === state.source) refresh();
  });
  source.addEventListener("logout", function () {
    if (source === state.source) sessionEnded();
  });
  source.addEventListener("typing", function () {
    if (source === state.source) onTypingEvent(); // someone types: the open conversation asks
  });
  source.onerror = function () {
    if (source !== state.source) return;
    if (source.readyState !== EventSource.CLOSED) {
      setConnection("reconnecting"); // the browser reconnects by itself
      return;
    }
    // Refused (e.g. 401 once the session ended) or the server went away: the browser
    // gives up, so ask /me whether we are still logged in and reconnect with backoff.
    source.close();
    state.source = null;
    setConnection("reconnecting");
    scheduleReconnect(generation);
  };
}

export function scheduleReconnect(generation) {
  var base = Math.min(MAX_RETRY_MS, 1000 * Math.pow(2, state.retry));
  state.retry = Math.min(state.retry + 1, 10);
  var delay = base / 2 + Math.random() * base / 2;
  state.retryTimer = setTimeout(async function () {
    state.retryTimer = null;
    if (generation !== state.generation) return;
    var me = await api("GET", "/me");
    if (generation !== state.generation || me.status === 401) return;
    if (me.ok) {
      connect();
    } else {
      scheduleReconnect(generation);
    }
  }, delay);
}

export function disconnect() {
  if (state.source) state.source.close();
  state.source = null;
  if (state.retryTimer) clearTimeout(state.retryTimer);
  state.retryTimer = null;
}

export async function refresh() {
  if (!state.me) return;
  if (state.running) {
    state.dirty = true;
    return;
  }
  var generation = state.generation;
  state.running = true;
  try {
    do {
      state.dirty = false;
      var jobs = [loadQueue()];
      if (state.openId !== null) jobs.push(loadDetail(state.openId));
      await Promise.all(jobs);
    } while (state.dirty && generation === state.generation);
  } catch (e) {
    if (window.console) window.console.error(e);
  }
  if (generation === state.generation) {
    state.running = false;
    if (state.dirty) refresh();
  }
}

export function tick() {
  var now = Date.now();
  var waits = document.querySelectorAll(".queue-wait");
  for (var i = 0; i < waits.length; i += 1) {
    var base = Number(waits[i].dataset.base || 0);
    var since = Number(waits[i].dataset.since || now);
    waits[i].textContent = minutesSeconds(base + (now - since) / 1000);
  }
}

// -- start --------------------------------------------------------------------------

export async function onLanguage() {
  var select = $("language");
  var wanted = select.value || null;
  select.disabled = true;
  var result = await api("PUT", "/me/language", { language: wanted });
  select.disabled = false;
  if (!result.ok) {
    if (result.status !== 401) setStatus(errorText(result, t("The language could not be changed")), "error");
    return;
  }
  // Every text of the page is built in the new language: load it anew (the open
  // conversation stays open, its id is in the address).
  window.location.reload();
}

export async function start() {
  $("login-form").addEventListener("submit", onLogin);
  $("logout").addEventListener("click", onLogout);
  $("presence").addEventListener("change", onPresence);
  $("language").addEventListener("change", onLanguage);
  await loadCatalogue(null); // the browser's language until the staff member is known
  installKeyboard();
  boot();
}


if (document.readyState === "loading") {
  document.addEventListener("DOMContentLoaded", start);
} else {
  start();
}
