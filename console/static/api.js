// The console API (/console/api): one fetch helper that sends the CSRF token and
// turns a lost session into the login form.

import { sessionEnded } from "./console.js";
import { API, state } from "./state.js";

// -- the API ------------------------------------------------------------------------

export function errorText(result, fallback) {
  var message = result && result.data && typeof result.data.error === "string" ? result.data.error : "";
  if (message) return message;
  return fallback + (result && result.status ? " (HTTP " + result.status + ")" : "");
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
      data: { error: "The server cannot be reached. Check the connection and try again." }
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
