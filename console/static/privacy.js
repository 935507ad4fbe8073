// The admin's data protection panel: export (Art. 15/20) and erasure (Art. 17).

import { api, errorText } from "./api.js";
import { refresh, sessionEnded } from "./console.js";
import { button, el } from "./dom.js";
import { formatNumber, t } from "./i18n.js";
import { API, state, ui } from "./state.js";

// -- data protection (admins only) --------------------------------------------------
//
// Export (DSGVO Art. 15/20) downloads the JSON document as the server sent it; erasure
// (Art. 17) asks first, then shows only counts. Nothing of the person is shown here.

export function buildPrivacyPanel() {
  var p = { busy: false };
  p.who = el("input", {
    id: "privacy-who",
    attrs: { type: "text", maxlength: 254, autocomplete: "off", autocapitalize: "none", spellcheck: "false" }
  });
  p.exportButton = button(t("Export"), "privacy-export");
  p.eraseButton = button(t("Erase"), "privacy-erase");
  p.confirmButton = button(t("Yes, erase for good"), "privacy-erase-confirm", "danger");
  p.cancelButton = button(t("Cancel"), "privacy-erase-cancel");
  p.confirm = el("div", { id: "privacy-confirm", cls: "privacy-confirm", attrs: { role: "alertdialog", "aria-labelledby": "privacy-confirm-text" } }, [
    el("p", {
      id: "privacy-confirm-text",
      text: t("Erase everything about this person: answers, transcripts, messages and notes? This cannot be undone.")
    }),
    p.confirmButton,
    p.cancelButton
  ]);
  p.confirm.hidden = true;
  p.status = el("p", { id: "privacy-status", cls: "users-status", attrs: { role: "status", "aria-live": "polite" } });
  p.exportButton.addEventListener("click", exportPerson);
  p.eraseButton.addEventListener("click", function () {
    if (p.busy || !privacyWho(p)) return;
    p.confirm.hidden = false;
    p.cancelButton.focus();
  });
  p.confirmButton.addEventListener("click", erasePerson);
  p.cancelButton.addEventListener("click", function () {
    p.confirm.hidden = true;
    p.eraseButton.focus();
  });
  p.who.addEventListener("input", function () {
    p.confirm.hidden = true; // a confirmation is for the person it was asked for
    privacyMessage("");
  });
  p.who.addEventListener("keydown", function (event) {
    if (event.key === "Enter") {
      event.preventDefault();
      exportPerson();
    }
  });
  p.root = el("section", { id: "privacy", cls: "panel privacy-panel", attrs: { "aria-labelledby": "privacy-title" } }, [
    el("h2", { id: "privacy-title", text: t("Data protection") }),
    el("label", { cls: "field" }, [el("span", { text: t("Email address or phone number") }), p.who]),
    el("div", { cls: "privacy-actions" }, [p.exportButton, p.eraseButton]),
    p.confirm,
    p.status
  ]);
  return p;
}

export function privacyMessage(message, kind) {
  if (!ui.privacyPanel) return;
  ui.privacyPanel.status.textContent = message || "";
  ui.privacyPanel.status.className = "users-status" + (kind ? " status-" + kind : "");
}

export function privacyWho(p) {
  // One field for both: an @ makes it an email address, anything else a phone number.
  var value = p.who.value.trim();
  if (!value) {
    privacyMessage(t("Enter an email address or a phone number."), "error");
    p.who.focus();
    return null;
  }
  return value.indexOf("@") >= 0 ? { email: value } : { phone: value };
}

export function privacyBusy(p, busy) {
  p.busy = busy;
  p.exportButton.disabled = busy;
  p.eraseButton.disabled = busy;
  p.confirmButton.disabled = busy;
}

export async function exportPerson() {
  var p = ui.privacyPanel;
  if (!p || p.busy) return;
  var who = privacyWho(p);
  if (!who) return;
  p.confirm.hidden = true;
  var key = who.email ? "email" : "phone";
  var generation = state.generation;
  privacyBusy(p, true);
  privacyMessage(t("Exporting…"), "info");
  var reply = null;
  var text = "";
  try {
    var person = {};
    person[key] = who[key];
    reply = await fetch(API + "/privacy/export", {  // POST: no personal data in the URL
      method: "POST",
      credentials: "same-origin",
      cache: "no-store",
      headers: { Accept: "application/json", "Content-Type": "application/json",
                 "X-CSRF-Token": state.csrf || "" },
      body: JSON.stringify(person)
    });
    text = await reply.text();
  } catch (e) {
    reply = null;
  }
  privacyBusy(p, false);
  if (generation !== state.generation || p !== ui.privacyPanel) return;
  if (!reply) {
    privacyMessage(t("The server cannot be reached. Check the connection and try again."), "error");
    return;
  }
  if (reply.status === 401) {
    sessionEnded();
    return;
  }
  var data = null;
  try {
    data = JSON.parse(text);
  } catch (e) {
    data = null;
  }
  var result = { status: reply.status, data: data && typeof data === "object" ? data : {} };
  if (!reply.ok) {
    privacyMessage(errorText(result, t("The export did not work")), "error");
    return;
  }
  var leads = Array.isArray(result.data.leads) ? result.data.leads.length : 0;
  if (!leads) {
    privacyMessage(t("Nobody found with this email address or phone number."), "info");
    return;
  }
  var named = /filename="([A-Za-z0-9._-]+)"/.exec(reply.headers.get("Content-Disposition") || "");
  download(text, named ? named[1] : "lotse-export.json");
  privacyMessage(leads === 1 ? t("Export downloaded (1 lead).") : t("Export downloaded ({count} leads).", { count: formatNumber(leads) }), "ok");
}

export function download(text, filename) {
  var url = URL.createObjectURL(new Blob([text], { type: "application/json" }));
  var link = el("a", { attrs: { href: url, download: filename } });
  link.hidden = true;
  document.body.appendChild(link);
  link.click();
  document.body.removeChild(link);
  setTimeout(function () {
    URL.revokeObjectURL(url);
  }, 1000);
}

export async function erasePerson() {
  var p = ui.privacyPanel;
  if (!p || p.busy) return;
  var who = privacyWho(p);
  if (!who) return;
  privacyBusy(p, true);
  privacyMessage(t("Erasing…"), "info");
  var result = await api("POST", "/privacy/erase", Object.assign({ confirm: true }, who));
  privacyBusy(p, false);
  if (result.stale || result.status === 401 || p !== ui.privacyPanel) return;
  p.confirm.hidden = true;
  if (!result.ok) {
    privacyMessage(errorText(result, t("The erasure did not work")), "error");
    return;
  }
  var leads = Number(result.data.leads) || 0;
  var conversations = Number(result.data.conversations) || 0;
  if (!leads) {
    privacyMessage(t("Nobody found with this email address or phone number; nothing erased."), "info");
    return;
  }
  p.who.value = "";
  privacyMessage(t("Erased: {leads} lead(s), {conversations} conversation(s).",
    { leads: formatNumber(leads), conversations: formatNumber(conversations) }), "ok");
  refresh(); // the queue may have shown the person's conversations
}
