// Lotse chat widget: a small, dependency-free client of Rasa's REST channel
// (through the demo site's /api/chat proxy). Visitor texts are only ever inserted
// with textContent, never as HTML. The conversation id and transcript live in
// localStorage (first-party), so a page reload keeps the conversation. While a person
// from the staff console has (or is about to take) the conversation, the widget long-polls
// /api/chat/updates for their messages and shows the queue status with a cancel button.
(function () {
  "use strict";
  var STORE = "lotse.chat.v1";
  var MAX_CHARS = 1000;
  var doc = document.documentElement;
  var language = (doc.lang || "de").slice(0, 2);
  var page = doc.getAttribute("data-page") || "";
  var labels = {
    de: { open: "Fragen? Chatten Sie mit uns", title: "Nordwerk-Assistent", placeholder: "Ihre Frage…", send: "Senden", error: "Die Verbindung ist gerade gestört. Bitte versuchen Sie es gleich noch einmal.",
          waiting: "Warteschlange: Position {position}, etwa {minutes} Min.", chatting: "Im Gespräch mit {person}", cancel: "Abbrechen" },
    en: { open: "Questions? Chat with us", title: "Nordwerk assistant", placeholder: "Your question…", send: "Send", error: "The connection is disturbed right now. Please try again in a moment.",
          waiting: "Queue: number {position}, about {minutes} min", chatting: "Talking to {person}", cancel: "Cancel" }
  }[language === "en" ? "en" : "de"];

  function load() {
    try {
      var saved = JSON.parse(localStorage.getItem(STORE) || "null");
      if (saved && typeof saved.sender === "string" && Array.isArray(saved.transcript)) return saved;
    } catch (e) { /* a corrupt entry starts a new conversation */ }
    var id = (window.crypto && crypto.randomUUID) ? crypto.randomUUID() : String(Date.now()) + Math.random().toString(16).slice(2);
    return { sender: "web-" + id, transcript: [], open: false };
  }
  var state = load();
  function save() { try { localStorage.setItem(STORE, JSON.stringify(state)); } catch (e) { /* storage full or blocked */ } }

  function el(tag, cls, text) {
    var node = document.createElement(tag);
    if (cls) node.className = cls;
    if (text !== undefined) node.textContent = text;
    return node;
  }

  var root = el("div", "lotse-widget");
  var launcher = el("button", "lotse-launcher", labels.open);
  launcher.type = "button";
  var panel = el("section", "lotse-panel");
  panel.setAttribute("aria-label", labels.title);
  var head = el("header", "lotse-head", labels.title);
  var close = el("button", "lotse-close", "×");
  close.type = "button"; close.setAttribute("aria-label", "close");
  head.appendChild(close);
  var log = el("div", "lotse-log");
  log.setAttribute("role", "log"); log.setAttribute("aria-live", "polite");
  var status = el("div", "lotse-status");
  status.setAttribute("aria-live", "polite");
  var statusText = el("span", "lotse-status-text");
  var cancel = el("button", "lotse-cancel", labels.cancel);
  cancel.type = "button";
  status.appendChild(statusText); status.appendChild(cancel);
  var form = el("form", "lotse-form");
  var input = el("input", "lotse-input");
  input.type = "text"; input.maxLength = MAX_CHARS; input.placeholder = labels.placeholder;
  input.setAttribute("aria-label", labels.placeholder);
  var send = el("button", "lotse-send", labels.send);
  send.type = "submit";
  form.appendChild(input); form.appendChild(send);
  panel.appendChild(head); panel.appendChild(log); panel.appendChild(status); panel.appendChild(form);
  root.appendChild(launcher); root.appendChild(panel);
  document.body.appendChild(root);

  function render(entry, index) {
    var item = el("div", "lotse-msg lotse-" + entry.from);
    if (entry.author) item.appendChild(el("div", "lotse-author", entry.author));
    item.appendChild(document.createTextNode(entry.text || ""));
    if (entry.buttons && entry.buttons.length && index === state.transcript.length - 1) {
      var row = el("div", "lotse-buttons");
      entry.buttons.forEach(function (b) {
        var button = el("button", "lotse-button", b.title);
        button.type = "button";
        button.addEventListener("click", function () { say(b.title, b.payload); });
        row.appendChild(button);
      });
      item.appendChild(row);
    }
    return item;
  }
  function redraw() {
    log.textContent = "";
    state.transcript.forEach(function (entry, i) { log.appendChild(render(entry, i)); });
    log.scrollTop = log.scrollHeight;
    root.classList.toggle("lotse-is-open", !!state.open);
    drawStatus();
  }
  function fill(template, values) {
    return template.replace(/\{(\w+)\}/g, function (_, key) { return values[key] == null ? "" : String(values[key]); });
  }
  function drawStatus() {
    var s = state.handoff && state.handoff.status;
    var shown = !!(s && (s.state === "waiting" || s.state === "human"));
    status.classList.toggle("lotse-status-shown", shown);
    if (!shown) return;
    statusText.textContent = s.state === "waiting" ? fill(labels.waiting, s) : fill(labels.chatting, { person: s.person || s.team || "" });
    cancel.style.display = s.state === "waiting" ? "" : "none";
  }
  function add(entry) { state.transcript.push(entry); save(); redraw(); }

  var queue = Promise.resolve();
  function post(message) {
    return fetch("/api/chat", {
      method: "POST",
      headers: { "Content-Type": "application/json" },
      body: JSON.stringify({ sender: state.sender, message: message,
        metadata: { language: language, page: page, visitor_id: state.sender } })
    }).then(function (r) { if (!r.ok) throw new Error(String(r.status)); return r.json(); });
  }
  function say(shown, payload) {
    if (shown) add({ from: "visitor", text: shown.slice(0, MAX_CHARS) });
    // Messages go out one at a time, so a fast typist's burst keeps its order.
    queue = queue.then(function () {
      root.classList.add("lotse-busy");
      return post(payload || shown).then(function (replies) {
        (replies || []).forEach(function (m) {
          if (m.text || m.buttons) add({ from: "bot", text: m.text || "", buttons: m.buttons || [] });
          if (m.custom && m.custom.handoff) follow({ state: m.custom.handoff.state, position: m.custom.handoff.position, minutes: m.custom.handoff.minutes });
        });
      }).catch(function () { add({ from: "bot", text: labels.error }); })
        .then(function () { root.classList.remove("lotse-busy"); });
    });
    return queue;
  }

  // The person's side: poll the feed while a handoff is open (and a little after).
  var polling = false;
  function follow(initial) {
    state.handoff = state.handoff && state.handoff.active ? state.handoff : { active: true, after: state.feedAfter || 0 };
    state.handoff.active = true;
    if (initial) state.handoff.status = initial;
    save(); drawStatus();
    if (!polling) poll();
  }
  function poll() {
    polling = true;
    fetch("/api/chat/updates?sender=" + encodeURIComponent(state.sender) + "&after=" + (state.feedAfter || 0))
      .then(function (r) { if (!r.ok) throw new Error(String(r.status)); return r.json(); })
      .then(function (update) {
        (update.messages || []).forEach(function (m) {
          add({ from: m.from === "agent" ? "agent" : (m.from === "system" ? "system" : "bot"),
                author: m.from === "agent" ? m.author : null, text: m.text || "", buttons: m.buttons || [] });
        });
        state.feedAfter = update.last_id || state.feedAfter || 0;
        state.handoff.status = update.status;
        state.handoff.active = !!(update.status && update.status.feed_open);
        save(); drawStatus();
        if (state.handoff.active) poll(); else polling = false;
      })
      .catch(function () { setTimeout(poll, 3000); });
  }
  cancel.addEventListener("click", function () { say(labels.cancel, "/cancel_handoff"); });

  launcher.addEventListener("click", function () {
    state.open = true; save(); redraw();
    if (!state.transcript.length) say(null, "/greet");
    input.focus();
  });
  close.addEventListener("click", function () { state.open = false; save(); redraw(); });
  form.addEventListener("submit", function (event) {
    event.preventDefault();
    var text = input.value.trim();
    input.value = "";
    if (text) say(text);
  });
  window.lotseWidget = { say: say, state: function () { return state; }, idle: function () { return queue; } };
  redraw();
  if (state.handoff && state.handoff.active) follow();
})();
