// The console API (/console/api): one fetch helper that sends the CSRF token and
// turns a lost session into the login form.

import { sessionEnded } from "./console.js";
import { N_, t, translateText } from "./i18n.js";
import { API, state } from "./state.js";

// -- the API ------------------------------------------------------------------------

// The server's error messages are English msgids too (console/locale): the ones the
// catalogue knows are shown translated, others as they are.
export function errorText(result, fallback) {
  var message = result && result.data && typeof result.data.error === "string" ? result.data.error : "";
  if (message) return translateError(message);
  return fallback + (result && result.status ? " (HTTP " + result.status + ")" : "");
}

// Messages with a value in them ("too many attempts; try again in 30 s") match their
// template; the value is kept. The server's texts (console/routes, handoff/auth.py,
// handoff/canned_responses.py, console/web.py) keep these shapes.
const ERROR_TEMPLATES = [
  N_("too many attempts; try again in {wait} s"),
  N_("a password has {least} to {most} characters"),
  N_("a staff login named '{username}' exists already"),
  N_("an email address has at most {count} characters"),
  N_("a phone number has at most {count} characters"),
  N_("at most {count} prepared answers"),
  N_("unknown colleague '{name}'"),
  N_("unknown team '{name}'"),
  N_("prepared answer '{key}': title.{language} must not be empty"),
  N_("prepared answer '{key}': text.{language} must not be empty"),
  N_("prepared answer '{key}': title.{language}: unknown placeholder '{placeholder}' (allowed: {allowed})"),
  N_("prepared answer '{key}': text.{language}: unknown placeholder '{placeholder}' (allowed: {allowed})")
];

export function translateError(message) {
  return translateText(message, ERROR_TEMPLATES);
}

export async function api(method, path, body) {
  var generation = state.generation;
  var init = {
    method: method,
    credentials: "same-origin",
    cache: "no-store",
    headers: { Accept: "application/json" }
  };
  if (method !== "GET") {
    init.headers["Content-Type"] = "application/json";
    init.headers["X-CSRF-Token"] = state.csrf || "";
    init.body = JSON.stringify(body || {});
  }
  var reply;
  try {
    reply = await fetch(API + path, init);
  } catch (e) {
    return {
      status: 0,
      ok: false,
      stale: generation !== state.generation,
      data: { error: t("The server cannot be reached. Check the connection and try again.") }
    };
  }
  var data = null;
  try {
    data = await reply.json();
  } catch (e) {
    data = null;
  }
  var result = {
    status: reply.status,
    ok: reply.ok,
    stale: generation !== state.generation,
    data: data && typeof data === "object" ? data : {}
  };
  if (reply.status === 401 && path !== "/login" && !result.stale) sessionEnded();
  return result;
}
