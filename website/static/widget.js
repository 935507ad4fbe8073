// Lotse chat widget: a small, dependency-free client of Rasa's REST channel
// (through the demo site's /api/chat proxy). Visitor texts are only ever inserted
// with textContent, never as HTML. The conversation id and transcript live in
// localStorage (first-party), so a page reload keeps the conversation. While a person
// from the staff console has (or is about to take) the conversation, the widget long-polls
// /api/chat/updates for their messages and shows the queue status with a cancel button.
// The conversation id is issued and signed by the server (POST /api/chat/visitor) before
// the first message; an id of the old made-up kind (no ".") or one the server no longer
// knows (403 "unknown visitor") is replaced the same way. The API is on the origin the
// script came from, so a page on another listed origin (LOTSE_SITE_ORIGINS) can embed it.
// During a handoff the widget says when the person in the console types (the long poll
// answers when that starts or stops), and tells the console when the visitor types
// (POST /api/chat/typing, at most every 2 s while typing; what they typed is not sent).
(function () {
  "use strict";
  var STORE = "lotse.chat.v1";
  var MAX_CHARS = 1000;
  var API = (function () {
    var script = document.currentScript;
    if (!script || !script.src) return "";
    var link = document.createElement("a");
    link.href = script.src;
    return link.protocol + "//" + link.host;
  })();
  var doc = document.documentElement;
  var language = (doc.lang || "de").slice(0, 2);
  var page = doc.getAttribute("data-page") || "";
  var labels = {
    de: { open: "Fragen? Chatten Sie mit uns", title: "Nordwerk-Assistent", placeholder: "Ihre Frage…", send: "Senden", error: "Die Verbindung ist gerade gestört. Bitte versuchen Sie es gleich noch einmal.",
          waiting: "Warteschlange: Position {position}, etwa {minutes} Min.", chatting: "Im Gespräch mit {person}", cancel: "Abbrechen",
          typing: "{person} schreibt …" },
    en: { open: "Questions? Chat with us", title: "Nordwerk assistant", placeholder: "Your question…", send: "Send", error: "The connection is disturbed right now. Please try again in a moment.",
          waiting: "Queue: number {position}, about {minutes} min", chatting: "Talking to {person}", cancel: "Cancel",
          typing: "{person} is typing…" }
  }[language === "en" ? "en" : "de"];

  function issued(id) { return typeof id === "string" && id.indexOf(".") > 0; }
  function load() {
    try {
      var saved = JSON.parse(localStorage.getItem(STORE) || "null");
      if (saved && typeof saved.sender === "string" && Array.isArray(saved.transcript)) {
        // An old made-up id: the transcript stays on screen, the server issues a new id.
        if (!issued(saved.sender)) { saved.sender = ""; saved.handoff = null; saved.feedAfter = 0; }
        return saved;
      }
    } catch (e) { /* a corrupt entry starts a new conversation */ }
    return { sender: "", transcript: [], open: false };
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
  var typingNote = el("div", "lotse-typing");
  typingNote.setAttribute("aria-live", "polite");
  var typingTimer = null;
  function redraw() {
    log.textContent = "";
    state.transcript.forEach(function (entry, i) { log.appendChild(render(entry, i)); });
    if (agentTyping) log.appendChild(typingNote);
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

  function failed(r) { var e = new Error(String(r.status)); e.status = r.status; e.retryAfter = Number(r.headers.get("Retry-After")) || 0; return e; }
  function json(r) { if (!r.ok) throw failed(r); return r.json(); }
  function unknownVisitor(r) {
    if (r.status !== 403) return Promise.resolve(false);
    return r.clone().json().then(function (answer) { return !!answer && answer.error === "unknown visitor"; },
      function () { return false; });
  }
  // A new id from the server; a conversation under the old id (and its handoff) is over.
  var issuing = null;
  function newSender() {
    if (!issuing) {
      issuing = fetch(API + "/api/chat/visitor", { method: "POST" }).then(json).then(function (answer) {
        if (!issued(answer.visitor_id)) throw new Error("no visitor id");
        state.sender = answer.visitor_id; state.handoff = null; state.feedAfter = 0;
        save(); drawStatus();
        issuing = null;
        return state.sender;
      }, function (e) { issuing = null; throw e; });
    }
    return issuing;
  }
  function sender() { return issued(state.sender) ? Promise.resolve(state.sender) : newSender(); }

  var queue = Promise.resolve();
  function postAs(id, message) {
    return fetch(API + "/api/chat", {
      method: "POST",
      headers: { "Content-Type": "application/json" },
      body: JSON.stringify({ sender: id, message: message,
        metadata: { language: language, page: page, visitor_id: id } })
    });
  }
  function post(message) {
    return sender().then(function (id) { return postAs(id, message); }).then(function (r) {
      return unknownVisitor(r).then(function (unknown) {
        if (!unknown) return json(r);
        return newSender().then(function (id) { return postAs(id, message); }).then(json);
      });
    });
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

  // Who types: the person in the console (shown until the seconds the server gave run
  // out) and the visitor (reported while a handoff is open).
  var agentTyping = false;
  function showTyping(typing, status) {
    var on = !!(typing && typing.agent);
    if (typingTimer) { clearTimeout(typingTimer); typingTimer = null; }
    if (on) {
      typingNote.textContent = fill(labels.typing, { person: (status && (status.person || status.team)) || "" });
      typingTimer = setTimeout(function () { typingTimer = null; showTyping(null); }, 1000 * (Number(typing.seconds) || 5));
    }
    if (on === agentTyping) return;
    agentTyping = on;
    redraw();
  }
  var typedAt = 0;
  function reportTyping(typing) {
    var s = state.handoff && state.handoff.active && state.handoff.status;
    if (!s || (s.state !== "human" && s.state !== "waiting") || !issued(state.sender)) return;
    typedAt = typing ? Date.now() : 0;
    fetch(API + "/api/chat/typing", {
      method: "POST", headers: { "Content-Type": "application/json" },
      body: JSON.stringify({ sender: state.sender, typing: typing })
    }).catch(function () { /* typing is a courtesy: nothing to tell the visitor */ });
  }
  input.addEventListener("input", function () {
    var typing = input.value.trim() !== "";
    if (typing && Date.now() - typedAt >= 2000) reportTyping(true);
    else if (!typing && typedAt && Date.now() - typedAt < 5000) reportTyping(false);
  });

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
    var id = state.sender;
    if (!issued(id)) { polling = false; return; }
    fetch(API + "/api/chat/updates?sender=" + encodeURIComponent(id) + "&after=" + (state.feedAfter || 0) +
          "&typing=" + (agentTyping ? "1" : "0"))
      .then(function (r) {
        return unknownVisitor(r).then(function (unknown) {
          if (!unknown) return json(r);
          // The server no longer knows this id: its handoff cannot be followed.
          polling = false;
          return newSender().then(function () { return null; });
        });
      })
      .then(function (update) {
        // Nothing to show, or an answer about an id that has since been replaced.
        if (!update || id !== state.sender || !state.handoff) { polling = false; return; }
        (update.messages || []).forEach(function (m) {
          add({ from: m.from === "agent" ? "agent" : (m.from === "system" ? "system" : "bot"),
                author: m.from === "agent" ? m.author : null, text: m.text || "", buttons: m.buttons || [] });
        });
        state.feedAfter = update.last_id || state.feedAfter || 0;
        state.handoff.status = update.status;
        showTyping(update.status && update.status.state === "human" ? update.typing : null, update.status);
        state.handoff.active = !!(update.status && update.status.feed_open);
        save(); drawStatus();
        if (state.handoff.active) poll(); else polling = false;
      })
      .catch(function (e) { setTimeout(poll, Math.max(3000, 1000 * ((e && e.retryAfter) || 0))); });
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
    typedAt = 0; // the message itself ends the typing
    if (text) say(text);
  });
  window.lotseWidget = { say: say, state: function () { return state; }, idle: function () { return queue; } };
  redraw();
  if (state.handoff && state.handoff.active) follow();
})();
