// The admin's users panel: staff logins, active or not.

import { api, errorText } from "./api.js";
import { clear, el, option, orDash } from "./dom.js";
import { t } from "./i18n.js";
import { state, ui } from "./state.js";

// -- users (admins only) ------------------------------------------------------------

export function buildUsersPanel() {
  var p = {};
  p.list = el("tbody", { id: "users-list" });
  p.status = el("p", { id: "users-status", cls: "users-status", attrs: { role: "status" } });
  p.username = el("input", { id: "user-username", attrs: { type: "text", maxlength: 64, autocomplete: "off", autocapitalize: "none", spellcheck: "false" } });
  p.password = el("input", { id: "user-password", attrs: { type: "password", maxlength: 256, autocomplete: "new-password" } });
  p.displayName = el("input", { id: "user-display-name", attrs: { type: "text", maxlength: 100 } });
  p.role = el("select", { id: "user-role" }, [option("agent", t("agent")), option("admin", t("admin"))]);
  p.staffOptions = el("datalist", { id: "user-staff-options" });
  p.staffId = el("input", { id: "user-staff-id", attrs: { type: "text", maxlength: 64, list: "user-staff-options", autocomplete: "off" } });
  p.add = el("button", { id: "user-add", cls: "primary", text: t("Add user") });
  p.add.type = "submit";
  function field(label, input, hint) {
    return el("label", { cls: "field" }, [el("span", { text: label }), input, hint ? el("small", { cls: "muted", text: hint }) : null]);
  }
  p.form = el("form", { id: "user-form", cls: "user-form", attrs: { novalidate: "" } }, [
    el("h3", { text: t("Add a user") }),
    field(t("Username"), p.username, t("3–64 characters: a–z, 0–9, . _ -")),
    field(t("Password"), p.password, t("at least 10 characters")),
    field(t("Display name (optional)"), p.displayName),
    field(t("Role"), p.role),
    field(t("Staff id (optional)"), p.staffId, t("links the login to a staff member of the routing")),
    p.staffOptions,
    p.add
  ]);
  p.form.addEventListener("submit", function (event) {
    event.preventDefault();
    addUser();
  });
  p.root = el("section", { id: "users", cls: "panel users-panel", attrs: { "aria-labelledby": "users-title" } }, [
    el("h2", { id: "users-title", text: t("Users") }),
    el("table", { cls: "users-table" }, [
      el("thead", {}, [el("tr", {}, [el("th", { text: t("Login") }), el("th", { text: t("Status") }), el("th", { text: "" })])]),
      p.list
    ]),
    p.status,
    p.form
  ]);
  return p;
}

export function updateStaffOptions() {
  var p = ui.usersPanel;
  if (!p || !state.queue) return;
  clear(p.staffOptions);
  (Array.isArray(state.queue.staff) ? state.queue.staff : []).forEach(function (member) {
    p.staffOptions.appendChild(option(member.id, member.name || member.id));
  });
}

export function usersMessage(message, kind) {
  if (!ui.usersPanel) return;
  ui.usersPanel.status.textContent = message || "";
  ui.usersPanel.status.className = "users-status" + (kind ? " status-" + kind : "");
}

export async function loadUsers() {
  var p = ui.usersPanel;
  if (!p) return;
  var result = await api("GET", "/users");
  if (result.stale || result.status === 401 || p !== ui.usersPanel) return;
  if (!result.ok) {
    usersMessage(errorText(result, t("The users could not be loaded")), "error");
    return;
  }
  state.users = Array.isArray(result.data.users) ? result.data.users : [];
  clear(p.list);
  state.users.forEach(function (user) {
    var control = null;
    if (state.me && user.username === state.me.username) {
      control = el("span", { cls: "muted", text: t("you") });
    } else {
      control = el("button", {
        cls: "user-active",
        text: user.active ? t("Disable") : t("Enable"),
        data: { username: user.username }
      });
      control.type = "button";
      control.addEventListener("click", function () {
        setActive(user.username, !user.active, control);
      });
    }
    p.list.appendChild(el("tr", { cls: "user-row" + (user.active ? "" : " inactive"), data: { username: user.username } }, [
      el("td", {}, [
        el("div", { cls: "user-name", text: user.username }),
        user.display_name && user.display_name !== user.username ? el("div", { text: user.display_name }) : null,
        el("div", { cls: "muted", text: (user.role === "admin" || user.role === "agent" ? t(user.role) : orDash(user.role)) + " · " + t("staff {id}", { id: orDash(user.staff_id) }) })
      ]),
      el("td", {}, [el("span", { cls: "badge " + (user.active ? "user-on" : "user-off"), text: user.active ? t("active") : t("disabled") })]),
      el("td", {}, [control])
    ]));
  });
}

export async function setActive(username, active, control) {
  control.disabled = true;
  var result = await api("POST", "/users/" + encodeURIComponent(username) + "/active", { active: active });
  control.disabled = false;
  if (result.stale || result.status === 401) return;
  if (!result.ok) {
    usersMessage(errorText(result, t("The user was not changed")), "error");
    return;
  }
  usersMessage(active ? t("{username} is enabled.", { username: username }) : t("{username} is disabled.", { username: username }), "ok");
  loadUsers();
}

export async function addUser() {
  var p = ui.usersPanel;
  if (!p || p.add.disabled) return;
  var body = {
    username: p.username.value.trim(),
    password: p.password.value,
    role: p.role.value
  };
  if (!body.username || !body.password) {
    usersMessage(t("A new user needs a username and a password."), "error");
    return;
  }
  var staffId = p.staffId.value.trim();
  var displayName = p.displayName.value.trim();
  if (staffId) body.staff_id = staffId;
  if (displayName) body.display_name = displayName;
  p.add.disabled = true;
  var result = await api("POST", "/users", body);
  p.add.disabled = false;
  if (result.stale || result.status === 401 || p !== ui.usersPanel) return;
  if (!result.ok) {
    usersMessage(errorText(result, t("The user was not added")), "error");
    return;
  }
  p.form.reset();
  usersMessage(t("User {username} added.", { username: result.data.username || body.username }), "ok");
  loadUsers();
}
