// Lotse staff console: a dependency-free client of the console API (/console/api, see
// console/openapi.yaml). Plain ES2017, no build step.
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
(function () {
  "use strict";

  var API = "/console/api";
  var OUTCOMES = [
    ["resolved", "Resolved"],
    ["lead_accepted", "Lead accepted"],
    ["lead_rejected", "Lead rejected"],
    ["no_answer", "No answer"],
    ["spam", "Spam"],
    ["other", "Other"]
  ];
  var VERDICTS = { lead_accepted: "accept", lead_rejected: "reject" };
  var SENDERS = ["visitor", "bot", "agent", "system"];
  var AUTHORS = { visitor: "Visitor", bot: "Bot", agent: "Agent", system: "System" };
  var STATE_TITLES = {
    waiting: "waiting for a person",
    human: "a person has the conversation",
    bot: "back with the bot",
    closed: "closed"
  };
  var MAX_RETRY_MS = 30000;

  var state = {
    me: null,
    csrf: "",
    queue: null,
    queueAt: 0,
    openId: null,
    detail: null,
    detailAt: 0,
    source: null,
    retry: 0,
    retryTimer: null,
    ticker: null,
    statusTimer: null,
    running: false,
    dirty: false,
    generation: 0,
    presencePending: false,
    users: null
  };
  var conv = null; // the open conversation's elements (see buildConversation)
  var usersPanel = null; // the admin's users panel (see buildUsersPanel)
  var privacyPanel = null; // the admin's data protection panel (see buildPrivacyPanel)

  // -- small DOM helpers (text only ever through textContent) -------------------------

  function $(id) {
    return document.getElementById(id);
  }

  function el(tag, options, children) {
    var node = document.createElement(tag);
    var o = options || {};
    if (o.id) node.id = o.id;
    if (o.cls) node.className = o.cls;
    if (o.text !== undefined && o.text !== null) node.textContent = String(o.text);
    if (o.attrs) {
      Object.keys(o.attrs).forEach(function (name) {
        node.setAttribute(name, String(o.attrs[name]));
      });
    }
    if (o.data) {
      Object.keys(o.data).forEach(function (name) {
        node.dataset[name] = String(o.data[name]);
      });
    }
    (children || []).forEach(function (child) {
      if (child) node.appendChild(child);
    });
    return node;
  }

  function button(text, id, cls) {
    var node = el("button", { id: id, cls: cls, text: text });
    node.type = "button";
    return node;
  }

  function option(value, text, cls) {
    var node = el("option", { cls: cls, text: text });
    node.value = value;
    return node;
  }

  function clear(node) {
    while (node.firstChild) node.removeChild(node.firstChild);
  }

  function token(value) {
    // A server value used in a class name: letters, digits, '_' and '-' only.
    return String(value === null || value === undefined ? "none" : value).replace(/[^A-Za-z0-9_-]/g, "_");
  }

  function badge(stateName) {
    return el("span", {
      cls: "badge state-" + token(stateName),
      text: stateName || "?",
      attrs: { title: STATE_TITLES[stateName] || "" }
    });
  }

  function pad(number) {
    return String(number).padStart(2, "0");
  }

  function toDate(iso) {
    if (!iso) return null;
    var date = new Date(iso);
    return isNaN(date.getTime()) ? null : date;
  }

  function clock(iso) {
    var date = toDate(iso);
    return date ? pad(date.getHours()) + ":" + pad(date.getMinutes()) : "";
  }

  function dateTime(iso) {
    var date = toDate(iso);
    if (!date) return "–";
    return date.getFullYear() + "-" + pad(date.getMonth() + 1) + "-" + pad(date.getDate()) +
      " " + pad(date.getHours()) + ":" + pad(date.getMinutes());
  }

  function minutesSeconds(seconds) {
    var total = Math.max(0, Math.floor(seconds));
    return pad(Math.floor(total / 60)) + ":" + pad(total % 60);
  }

  function orDash(value) {
    return value === null || value === undefined || value === "" ? "–" : String(value);
  }

  function isMine(handoff) {
    return Boolean(state.me && state.me.staff_id && handoff && handoff.assignee === state.me.staff_id);
  }

  function routedTo(handoff) {
    if (handoff.assignee_name) return handoff.assignee_name + (isMine(handoff) ? " (you)" : "");
    if (handoff.assignee) return handoff.assignee + (isMine(handoff) ? " (you)" : "");
    return "team queue: " + orDash(handoff.team_label || handoff.team);
  }

  // -- the API ------------------------------------------------------------------------

  function errorText(result, fallback) {
    var message = result && result.data && typeof result.data.error === "string" ? result.data.error : "";
    if (message) return message;
    return fallback + (result && result.status ? " (HTTP " + result.status + ")" : "");
  }

  async function api(method, path, body) {
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

  // -- status line --------------------------------------------------------------------

  function setStatus(message, kind) {
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

  function showLogin(message) {
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

  function sessionEnded() {
    showLogin(state.me ? "Your session has ended. Please log in again." : "");
  }

  async function onLogin(event) {
    event.preventDefault();
    var submit = $("login-submit");
    var errorLine = $("login-error");
    var username = $("login-username").value.trim();
    var password = $("login-password").value;
    if (!username || !password) {
      errorLine.textContent = "Enter your username and password.";
      return;
    }
    if (submit.disabled) return;
    submit.disabled = true;
    errorLine.textContent = "";
    var result = await api("POST", "/login", { username: username, password: password });
    submit.disabled = false;
    if (!result.ok) {
      errorLine.textContent = errorText(result, "Logging in did not work");
      $("login-password").value = "";
      $("login-password").focus();
      return;
    }
    $("login-password").value = "";
    state.csrf = result.data.csrf_token || "";
    var user = result.data.user || {};
    var me = await api("GET", "/me");
    if (me.status === 401) return;
    startApp(me.ok ? me.data : {
      username: user.username,
      role: user.role,
      staff_id: user.staff_id,
      name: user.username,
      csrf_token: state.csrf
    });
  }

  async function onLogout() {
    $("logout").disabled = true;
    await api("POST", "/logout", {});
    $("logout").disabled = false;
    try {
      window.history.replaceState(null, "", "#");
    } catch (e) { /* see openConversation */ }
    showLogin("");
  }

  async function boot() {
    var result = await api("GET", "/me");
    if (result.status === 401) return; // api() has shown the login form
    if (!result.ok) {
      $("boot").textContent = errorText(result, "The console could not start") + " Trying again…";
      setTimeout(boot, 5000);
      return;
    }
    startApp(result.data);
  }

  function startApp(me) {
    stopApp();
    state.me = me;
    state.csrf = me.csrf_token || state.csrf;
    $("boot").hidden = true;
    $("login-view").hidden = true;
    $("app").hidden = false;
    $("login-error").textContent = "";
    $("me-name").textContent = me.name || me.username || "";
    $("me-role").textContent = me.role === "admin" ? "(admin)" : "";
    var presence = $("presence");
    presence.disabled = !me.staff_id;
    presence.title = me.staff_id ? "Whether new conversations are routed to you" :
      "This login is not linked to a staff member";
    if (me.role === "admin") {
      // The insights dashboard (/console/insights) is for admins; back there after a
      // login it sent here.
      if (/[?&]next=insights\b/.test(window.location.search || "")) {
        window.location.assign("/console/insights");
        return;
      }
      $("insights-link").hidden = false;
      usersPanel = buildUsersPanel();
      $("left").appendChild(usersPanel.root);
      loadUsers();
      privacyPanel = buildPrivacyPanel();
      $("left").appendChild(privacyPanel.root);
    }
    state.ticker = setInterval(tick, 1000);
    connect();
    refresh();
    var wanted = /^#handoff-(\d+)$/.exec(window.location.hash || "");
    if (wanted) openConversation(Number(wanted[1]));
  }

  function stopApp() {
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
    conv = null;
    // Nothing personal stays on the page once the session is over.
    clear($("queue"));
    $("queue-count").textContent = "";
    clear($("conversation"));
    $("conversation").appendChild(el("p", { cls: "placeholder", text: "Choose a conversation from the queue." }));
    $("me-name").textContent = "";
    $("me-role").textContent = "";
    setStatus("");
    if (usersPanel && usersPanel.root.parentNode) usersPanel.root.parentNode.removeChild(usersPanel.root);
    usersPanel = null;
    // The panel's input may hold a person's email or number: it goes with the session.
    if (privacyPanel && privacyPanel.root.parentNode) privacyPanel.root.parentNode.removeChild(privacyPanel.root);
    privacyPanel = null;
    var problem = $("queue-error");
    if (problem) problem.parentNode.removeChild(problem);
    setConnection("offline");
  }

  // -- live updates -------------------------------------------------------------------

  function setConnection(kind) {
    var node = $("connection");
    var texts = { live: "live", connecting: "connecting…", reconnecting: "reconnecting…", offline: "offline" };
    node.textContent = texts[kind] || kind;
    node.className = "connection connection-" + token(kind);
  }

  function connect() {
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

  function scheduleReconnect(generation) {
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

  function disconnect() {
    if (state.source) state.source.close();
    state.source = null;
    if (state.retryTimer) clearTimeout(state.retryTimer);
    state.retryTimer = null;
  }

  async function refresh() {
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

  function tick() {
    var now = Date.now();
    var waits = document.querySelectorAll(".queue-wait");
    for (var i = 0; i < waits.length; i += 1) {
      var base = Number(waits[i].dataset.base || 0);
      var since = Number(waits[i].dataset.since || now);
      waits[i].textContent = minutesSeconds(base + (now - since) / 1000);
    }
  }

  // -- the queue ----------------------------------------------------------------------

  async function loadQueue() {
    var generation = state.generation;
    var result = await api("GET", "/queue");
    if (result.stale || generation !== state.generation || result.status === 401) return;
    var problem = $("queue-error");
    if (!result.ok) {
      if (!problem) {
        problem = el("p", { id: "queue-error", cls: "error" });
        $("queue").parentNode.insertBefore(problem, $("queue"));
      }
      problem.textContent = errorText(result, "The queue could not be loaded");
      return;
    }
    if (problem) problem.parentNode.removeChild(problem);
    state.queue = result.data;
    state.queueAt = Date.now();
    renderQueue();
    renderPresence();
    updateTransferTargets();
    updateStaffOptions();
  }

  function renderQueue() {
    var list = $("queue");
    var focused = document.activeElement && document.activeElement.classList &&
      document.activeElement.classList.contains("queue-item") ? document.activeElement.dataset.id : null;
    var handoffs = Array.isArray(state.queue.handoffs) ? state.queue.handoffs : [];
    clear(list);
    $("queue-count").textContent = handoffs.length ? String(handoffs.length) : "";
    if (!handoffs.length) {
      list.appendChild(el("li", { cls: "empty", text: "Nobody is waiting right now." }));
      return;
    }
    handoffs.forEach(function (handoff) {
      var classes = "queue-item state-" + token(handoff.state);
      if (handoff.id === state.openId) classes += " active";
      if (isMine(handoff)) classes += " mine";
      var wait = el("span", {
        cls: "queue-wait",
        text: minutesSeconds(handoff.waiting_seconds || 0),
        attrs: { title: "Waiting since " + dateTime(handoff.requested_at) },
        data: { base: handoff.waiting_seconds || 0, since: state.queueAt }
      });
      var item = el("button", { cls: classes, data: { id: handoff.id } }, [
        el("span", { cls: "q-top" }, [
          wait,
          badge(handoff.state),
          el("span", { cls: "q-lang", text: orDash(handoff.language), attrs: { title: "language" } }),
          el("span", { cls: "q-channel", text: orDash(handoff.channel), attrs: { title: "channel" } })
        ]),
        el("span", { cls: "q-reason", text: orDash(handoff.reason) }),
        el("span", { cls: "q-route" }, [
          el("span", { cls: "q-label", text: "Routed to " }),
          el("span", { text: routedTo(handoff) })
        ]),
        el("span", { cls: "q-stage" }, [
          el("span", { cls: "q-label", text: "Lead stage " }),
          el("span", { text: orDash(handoff.lead_stage) })
        ])
      ]);
      item.type = "button";
      item.setAttribute("aria-pressed", handoff.id === state.openId ? "true" : "false");
      item.addEventListener("click", function () {
        openConversation(handoff.id);
      });
      list.appendChild(el("li", {}, [item]));
    });
    if (focused) {
      var again = list.querySelector('.queue-item[data-id="' + token(focused) + '"]');
      if (again) again.focus();
    }
  }

  function markActive() {
    var items = document.querySelectorAll(".queue-item");
    for (var i = 0; i < items.length; i += 1) {
      var active = Number(items[i].dataset.id) === state.openId;
      items[i].classList.toggle("active", active);
      items[i].setAttribute("aria-pressed", active ? "true" : "false");
    }
  }

  function renderPresence() {
    var select = $("presence");
    if (state.presencePending || document.activeElement === select || !state.queue) return;
    if (state.queue.status === "available" || state.queue.status === "away") select.value = state.queue.status;
    select.className = "presence-" + token(select.value);
  }

  async function onPresence() {
    var select = $("presence");
    var status = select.value;
    select.className = "presence-" + token(status);
    state.presencePending = true;
    var result = await api("PUT", "/presence", { status: status });
    if (result.stale || result.status === 401) return;
    state.presencePending = false;
    if (!result.ok) {
      setStatus(errorText(result, "The presence was not changed"), "error");
    } else {
      if (state.queue) state.queue.status = result.data.status || status;
      setStatus("You are " + status + " now.", "ok");
    }
    renderPresence();
  }

  // -- the open conversation ----------------------------------------------------------

  function openConversation(id) {
    if (!state.me || !isFinite(id)) return;
    if (state.openId === id && conv) {
      refresh();
      return;
    }
    state.openId = id;
    state.detail = null;
    setStatus("");
    buildConversation(id);
    markActive();
    try {
      window.history.replaceState(null, "", "#handoff-" + id);
    } catch (e) { /* the address only remembers the conversation for a reload */ }
    refresh();
  }

  function conversationGone(result) {
    var id = state.openId;
    state.openId = null;
    state.detail = null;
    conv = null;
    var root = $("conversation");
    clear(root);
    root.appendChild(el("p", { cls: "placeholder" }, [
      document.createTextNode("Conversation #" + id + " is not open to you any more: "),
      el("span", { text: errorText(result, "it cannot be shown") })
    ]));
    markActive();
    try {
      window.history.replaceState(null, "", "#");
    } catch (e) { /* see openConversation */ }
  }

  async function loadDetail(id) {
    var generation = state.generation;
    var result = await api("GET", "/handoffs/" + id);
    if (result.stale || generation !== state.generation || state.openId !== id || !conv) return;
    if (result.status === 401) return;
    if (result.status === 403 || result.status === 404) {
      conversationGone(result);
      return;
    }
    if (!result.ok) {
      conv.problem.textContent = errorText(result, "The conversation could not be loaded");
      conv.problem.hidden = false;
      return;
    }
    conv.problem.hidden = true;
    state.detail = result.data;
    state.detailAt = Date.now();
    renderDetail();
  }

  function buildConversation(id) {
    var root = $("conversation");
    clear(root);
    var c = { id: id, groupsKey: null, transcriptKey: null, notesKey: null, forceScroll: false, answerRows: {}, answerOrder: "" };

    c.title = el("h2", { cls: "conv-title", text: "Conversation #" + id });
    c.stateBadge = el("span");
    c.info = el("dl", { id: "handoff-info", cls: "facts" });
    c.rule = el("p", { id: "routing-rule", cls: "rule" });
    c.explanation = el("ul", { id: "routing-explanation", cls: "explanation" });
    c.problem = el("p", { id: "conversation-error", cls: "error" });
    c.problem.hidden = true;
    c.actions = el("div", { id: "actions", cls: "actions" });
    c.ownerNote = el("p", { id: "owner-note", cls: "muted" });

    // Action controls are made once and attached only when they apply, so text being
    // typed survives live updates.
    c.claim = button("Claim", "claim", "primary");
    c.claim.addEventListener("click", onClaim);

    c.handBack = button("Hand back to bot", "hand-back");
    c.handBack.addEventListener("click", onHandBack);

    c.transferTarget = el("select", { id: "transfer-target", attrs: { "aria-label": "Transfer to" } });
    c.transfer = button("Transfer", "transfer");
    c.transfer.addEventListener("click", onTransfer);

    c.closeOutcome = el("select", { id: "close-outcome", attrs: { "aria-label": "Outcome" } });
    OUTCOMES.forEach(function (pair) {
      c.closeOutcome.appendChild(option(pair[0], pair[1]));
    });
    c.closeReason = el("input", { id: "close-reason", attrs: { type: "text", maxlength: 500, placeholder: "Reason (optional)", "aria-label": "Reason" } });
    c.closeOutcome.addEventListener("change", function () {
      var needed = Boolean(VERDICTS[c.closeOutcome.value]);
      c.closeReason.placeholder = needed ? "Reason (required for a lead verdict)" : "Reason (optional)";
      c.closeReason.required = needed;
    });
    c.close = button("Close conversation", "close");
    c.close.addEventListener("click", onClose);

    c.claimGroup = el("div", { cls: "action-group" }, [c.claim]);
    c.ownerGroup = el("div", { cls: "action-group" }, [
      el("div", { cls: "action-row" }, [c.handBack]),
      el("div", { cls: "action-row" }, [el("span", { cls: "action-label", text: "Transfer" }), c.transferTarget, c.transfer]),
      el("div", { cls: "action-row" }, [el("span", { cls: "action-label", text: "Close" }), c.closeOutcome, c.closeReason, c.close])
    ]);

    c.transcriptNote = el("p", { id: "transcript-note", cls: "note-banner" });
    c.transcriptNote.hidden = true;
    c.transcript = el("div", { id: "transcript", cls: "transcript", attrs: { role: "log", "aria-live": "polite", "aria-label": "Transcript", tabindex: 0 } });

    c.replyText = el("textarea", { id: "reply-text", attrs: { rows: 3, maxlength: 2000, placeholder: "Reply to the visitor…", "aria-label": "Reply to the visitor" } });
    c.replySend = button("Send", "reply-send", "primary");
    c.replyText.addEventListener("keydown", function (event) {
      if (event.key === "Enter" && !event.shiftKey && !event.isComposing) {
        event.preventDefault();
        sendReply();
      }
    });
    c.replySend.addEventListener("click", sendReply);
    c.replyGroup = el("div", { id: "reply-box", cls: "reply-box" }, [
      c.replyText,
      el("div", { cls: "reply-row" }, [el("span", { cls: "hint", text: "Enter sends · Shift+Enter for a new line" }), c.replySend])
    ]);
    c.replySlot = el("div", { cls: "reply-slot" });
    c.ownerSlot = el("div", { id: "owner-actions", cls: "owner-slot" });

    c.notesList = el("ul", { id: "notes-list", cls: "notes-list" });
    c.noteText = el("textarea", { id: "note-text", attrs: { rows: 2, maxlength: 2000, placeholder: "Internal note for colleagues…", "aria-label": "Internal note" } });
    c.noteAdd = button("Add note", "note-add");
    c.noteAdd.addEventListener("click", addNote);
    c.notes = el("section", { id: "notes", cls: "panel notes" }, [
      el("h3", { text: "Notes" }, [el("span", { cls: "internal", text: "internal, the visitor does not see this" })]),
      c.notesList,
      c.noteText,
      el("div", { cls: "note-row" }, [c.noteAdd])
    ]);

    c.leadSlot = el("div", { cls: "lead-slot" });
    c.lead = null; // built on first lead (buildLeadCard)
    c.noLead = el("section", { id: "no-lead", cls: "panel muted", text: "No lead is linked to this conversation." });

    c.history = el("ul", { id: "history-list", cls: "history" });
    var historyBox = el("details", { id: "history", cls: "panel history-panel" }, [el("summary", { text: "History" }), c.history]);

    var head = el("header", { cls: "conv-head" }, [
      el("div", { cls: "conv-title-row" }, [c.title, c.stateBadge]),
      c.info,
      el("div", { cls: "routing" }, [el("h3", { text: "Why it was routed here" }), c.rule, c.explanation])
    ]);
    var main = el("div", { cls: "conv-main" }, [
      head, c.problem, c.actions, c.ownerNote, c.transcriptNote, c.transcript, c.replySlot, c.ownerSlot
    ]);
    var side = el("div", { cls: "conv-side" }, [c.notes, c.leadSlot, historyBox]);
    root.appendChild(el("div", { cls: "conv-grid" }, [main, side]));
    root.appendChild(el("p", { cls: "placeholder loading", text: "Loading…" }));
    c.loading = root.lastChild;
    conv = c;
    updateTransferTargets();
  }

  function renderDetail() {
    var c = conv;
    var detail = state.detail;
    if (!c || !detail || !detail.handoff) return;
    if (c.loading && c.loading.parentNode) c.loading.parentNode.removeChild(c.loading);
    var handoff = detail.handoff;
    renderHead(c, handoff);
    renderActions(c, handoff);
    if (detail.transcript_note) {
      c.transcriptNote.textContent = detail.transcript_note;
      c.transcriptNote.hidden = false;
    } else {
      c.transcriptNote.hidden = true;
    }
    renderTranscript(c, Array.isArray(detail.transcript) ? detail.transcript : []);
    renderNotes(c, Array.isArray(detail.notes) ? detail.notes : []);
    renderLead(c, detail.lead || null);
    renderHistory(c, Array.isArray(detail.events) ? detail.events : []);
  }

  function fact(list, label, value, cls) {
    if (value === null || value === undefined || value === "") return;
    list.appendChild(el("dt", { text: label }));
    list.appendChild(el("dd", { cls: cls, text: value }));
  }

  function renderHead(c, handoff) {
    clear(c.stateBadge);
    c.stateBadge.appendChild(badge(handoff.state));
    clear(c.info);
    fact(c.info, "State", handoff.state, "fact-state");
    fact(c.info, "Reason", orDash(handoff.reason), "fact-reason");
    fact(c.info, "Need", handoff.need);
    fact(c.info, "Language", orDash(handoff.language), "fact-language");
    fact(c.info, "Channel", orDash(handoff.channel), "fact-channel");
    fact(c.info, "Page", handoff.page);
    fact(c.info, "Team", orDash(handoff.team_label || handoff.team), "fact-team");
    fact(c.info, "Routed to", routedTo(handoff), "fact-routed");
    if (Array.isArray(handoff.responsible) && handoff.responsible.length) {
      fact(c.info, "Responsible", handoff.responsible.join(", "));
    }
    fact(c.info, "Requested", dateTime(handoff.requested_at));
    if (handoff.claimed_at) fact(c.info, "Claimed", dateTime(handoff.claimed_at));
    if (handoff.closed_at) fact(c.info, "Ended", dateTime(handoff.closed_at));
    fact(c.info, "Outcome", handoff.outcome);
    fact(c.info, "Lead stage", orDash(handoff.lead_stage), "fact-stage");
    c.rule.textContent = "";
    c.rule.appendChild(el("span", { cls: "q-label", text: "Rule " }));
    c.rule.appendChild(el("code", { text: orDash(handoff.rule) }));
    clear(c.explanation);
    var lines = Array.isArray(handoff.explanation) ? handoff.explanation : [];
    if (!lines.length) c.explanation.appendChild(el("li", { cls: "muted", text: "No explanation recorded." }));
    lines.forEach(function (line) {
      c.explanation.appendChild(el("li", { text: line }));
    });
  }

  function attachOnly(container, nodes) {
    clear(container);
    nodes.forEach(function (node) {
      container.appendChild(node);
    });
  }

  function renderActions(c, handoff) {
    var owner = handoff.state === "human" && isMine(handoff);
    var key = handoff.state === "waiting" ? "claim" : owner ? "owner" : "none";
    if (key !== c.groupsKey) {
      // Re-attached only when the set of controls changes: a focused textarea keeps focus.
      c.groupsKey = key;
      attachOnly(c.actions, key === "claim" ? [c.claimGroup] : []);
      attachOnly(c.replySlot, key === "owner" ? [c.replyGroup] : []);
      attachOnly(c.ownerSlot, key === "owner" ? [c.ownerGroup] : []);
    }
    var note = "";
    if (handoff.state === "human" && !owner) note = "With " + routedTo(handoff) + ".";
    if (handoff.state === "closed") note = "This conversation is closed" + (handoff.outcome ? " (" + handoff.outcome + ")." : ".");
    if (handoff.state === "bot") note = "This conversation is back with the bot" + (handoff.outcome ? " (" + handoff.outcome + ")." : ".");
    c.ownerNote.textContent = note;
    c.ownerNote.hidden = !note;
  }

  function lineNode(line) {
    var from = SENDERS.indexOf(line.from) >= 0 ? line.from : "system";
    var author = AUTHORS[from];
    if ((from === "agent" || from === "system") && line.author) author = line.author;
    var node = el("div", { cls: "line from-" + from }, [
      el("div", { cls: "meta" }, [
        el("span", { cls: "author", text: author }),
        el("time", { cls: "time", text: clock(line.at), attrs: { datetime: line.at || "", title: dateTime(line.at) } })
      ]),
      el("div", { cls: "text", text: line.text || "" })
    ]);
    if (Array.isArray(line.buttons) && line.buttons.length) {
      node.appendChild(el("div", { cls: "buttons" }, line.buttons.map(function (choice) {
        var label = choice && typeof choice === "object" ? (choice.title || choice.payload) : choice;
        return el("span", { cls: "chip", text: orDash(label) });
      })));
    }
    return node;
  }

  function renderTranscript(c, lines) {
    var box = c.transcript;
    var key = JSON.stringify(lines);
    if (key === c.transcriptKey) return;
    var first = c.transcriptKey === null;
    var nearBottom = box.scrollHeight - box.scrollTop - box.clientHeight < 80;
    c.transcriptKey = key;
    clear(box);
    if (!lines.length) box.appendChild(el("p", { cls: "placeholder", text: "No messages yet." }));
    lines.forEach(function (line) {
      box.appendChild(lineNode(line));
    });
    if (first || nearBottom || c.forceScroll) box.scrollTop = box.scrollHeight;
    c.forceScroll = false;
  }

  function renderNotes(c, notes) {
    var key = JSON.stringify(notes);
    if (key === c.notesKey) return;
    c.notesKey = key;
    clear(c.notesList);
    if (!notes.length) c.notesList.appendChild(el("li", { cls: "muted", text: "No notes yet." }));
    notes.forEach(function (note) {
      c.notesList.appendChild(el("li", { cls: "note" }, [
        el("div", { cls: "meta" }, [
          el("span", { cls: "author", text: orDash(note.author) }),
          el("time", { cls: "time", text: dateTime(note.at), attrs: { datetime: note.at || "" } })
        ]),
        el("div", { cls: "text", text: note.text || "" })
      ]));
    });
  }

  function renderHistory(c, events) {
    clear(c.history);
    events.forEach(function (event) {
      c.history.appendChild(el("li", {}, [
        el("time", { cls: "time", text: dateTime(event.at) }),
        el("span", { text: " " + orDash(event.kind) }),
        el("span", { cls: "muted", text: event.actor ? " by " + event.actor : "" })
      ]));
    });
    if (!events.length) c.history.appendChild(el("li", { cls: "muted", text: "Nothing recorded." }));
  }

  // -- the lead card ------------------------------------------------------------------

  function scalarText(value) {
    if (value === null || value === undefined) return "–";
    if (Array.isArray(value)) return value.map(scalarText).join(", ");
    if (typeof value === "object") return JSON.stringify(value);
    return String(value);
  }

  function valueText(value) {
    if (value === null || value === undefined) return "–";
    if (Array.isArray(value)) return value.map(scalarText).join(", ");
    if (typeof value === "object") {
      var keys = Object.keys(value);
      if (!keys.length) return "–";
      return keys.map(function (key) {
        return key + ": " + scalarText(value[key]);
      }).join(", ");
    }
    return String(value);
  }

  function answerText(answer) {
    if (!answer) return "–";
    if (answer.status && answer.status !== "answered") return "(" + answer.status + ")";
    return valueText(answer.value);
  }

  function buildLeadCard() {
    var card = {};
    card.facts = el("dl", { cls: "facts lead-facts" });
    card.fit = el("ul", { id: "fit-explanation", cls: "explanation" });
    card.interest = el("ul", { id: "interest-explanation", cls: "explanation" });
    card.consent = el("p", { id: "lead-consent", cls: "consent" });
    card.rows = el("ul", { id: "answers", cls: "answers" });
    card.root = el("section", { id: "lead-card", cls: "panel lead-card" }, [
      el("h3", { text: "Lead" }),
      card.facts,
      el("h4", { text: "Fit" }), card.fit,
      el("h4", { text: "Interest" }), card.interest,
      el("h4", { text: "Consent" }), card.consent,
      el("h4", { text: "Answers" }),
      card.rows
    ]);
    return card;
  }

  function answerRow(c, key, editable) {
    var row = { key: key };
    row.value = el("span", { cls: "answer-value" });
    row.source = el("span", { cls: "answer-source" });
    row.error = el("div", { cls: "answer-error error" });
    row.node = el("li", { cls: "answer-row", data: { attribute: key } }, [
      el("span", { cls: "answer-key", text: key }), row.value, row.source
    ]);
    if (editable) {
      row.input = el("input", { cls: "answer-input", data: { attribute: key }, attrs: { type: "text", maxlength: 300, placeholder: "New answer for " + key, "aria-label": "New answer for " + key } });
      row.button = el("button", { cls: "answer-edit", text: "Save", data: { attribute: key } });
      row.button.type = "button";
      row.button.addEventListener("click", function () {
        editAnswer(c, row);
      });
      row.input.addEventListener("keydown", function (event) {
        if (event.key === "Enter" && !event.isComposing) {
          event.preventDefault();
          editAnswer(c, row);
        }
      });
      row.input.addEventListener("input", function () {
        row.error.textContent = "";
      });
      row.node.appendChild(el("div", { cls: "answer-form" }, [row.input, row.button]));
      row.node.appendChild(row.error);
    }
    return row;
  }

  function renderLead(c, lead) {
    if (!lead) {
      attachOnly(c.leadSlot, [c.noLead]);
      return;
    }
    if (!c.lead) c.lead = buildLeadCard();
    var card = c.lead;
    if (card.root.parentNode !== c.leadSlot) attachOnly(c.leadSlot, [card.root]);

    clear(card.facts);
    fact(card.facts, "Stage", orDash(lead.stage), "lead-stage");
    fact(card.facts, "Fit", orDash(lead.fit), "lead-fit");
    fact(card.facts, "Interest", orDash(lead.interest), "lead-interest");
    fact(card.facts, "Name", lead.name);
    fact(card.facts, "Email", lead.email ? lead.email + (lead.freemail ? " (freemail)" : "") : null);
    fact(card.facts, "Phone", lead.phone);

    var explanation = lead.explanation || {};
    [[card.fit, explanation.fit], [card.interest, explanation.interest]].forEach(function (pair) {
      clear(pair[0]);
      (Array.isArray(pair[1]) ? pair[1] : []).forEach(function (line) {
        pair[0].appendChild(el("li", { text: line }));
      });
    });

    var consent = lead.consent;
    card.consent.className = "consent " + (consent ? "consent-given" : "consent-none");
    card.consent.textContent = consent ?
      "Version " + orDash(consent.version) + ", given " + dateTime(consent.given_at) + " via " + orDash(consent.channel) :
      "no consent";

    var answers = lead.answers && typeof lead.answers === "object" ? lead.answers : {};
    var questions = Array.isArray(lead.questions) ? lead.questions : [];
    var keys = questions.slice();
    Object.keys(answers).forEach(function (key) {
      if (keys.indexOf(key) < 0) keys.push(key);
    });
    keys.forEach(function (key) {
      if (!c.answerRows[key]) c.answerRows[key] = answerRow(c, key, questions.indexOf(key) >= 0);
      var row = c.answerRows[key];
      var answer = answers[key];
      row.value.textContent = answerText(answer);
      clear(row.source);
      if (answer) {
        row.source.appendChild(el("span", {
          cls: "source source-" + token(answer.source),
          text: orDash(answer.source),
          attrs: { title: answer.at ? "recorded " + dateTime(answer.at) : "" }
        }));
      } else {
        row.source.textContent = "–";
      }
    });
    var order = keys.join("\n");
    if (order !== c.answerOrder) {
      // Rows are only moved when the set changes: an input being typed in keeps focus.
      c.answerOrder = order;
      attachOnly(card.rows, keys.map(function (key) {
        return c.answerRows[key].node;
      }));
    }
  }

  // -- actions ------------------------------------------------------------------------

  function mergeSummary(c, summary) {
    // The action replies carry the new handoff summary (without the lead stage).
    if (c !== conv || !state.detail || !summary || summary.id !== c.id) return;
    var stage = state.detail.handoff ? state.detail.handoff.lead_stage : null;
    state.detail.handoff = Object.assign({}, summary, { lead_stage: summary.lead_stage || stage });
    renderDetail();
  }

  async function act(c, path, body, control, done) {
    if (c !== conv || control.disabled) return null;
    control.disabled = true;
    var result = await api("POST", "/handoffs/" + c.id + "/" + path, body);
    control.disabled = false;
    if (result.stale || result.status === 401 || c !== conv) return null;
    if (!result.ok) {
      if (path === "claim" && result.status === 409) {
        setStatus("Someone else claimed it first.", "error");
      } else {
        setStatus(errorText(result, "That did not work"), "error");
      }
      refresh();
      return null;
    }
    if (done) setStatus(done, "ok");
    refresh();
    return result;
  }

  async function onClaim() {
    var c = conv;
    if (!c) return;
    var result = await act(c, "claim", {}, c.claim, "You have the conversation now.");
    if (result) {
      mergeSummary(c, result.data);
      if (c.replyText.parentNode) c.replyText.focus();
    }
  }

  async function onHandBack() {
    var c = conv;
    if (!c) return;
    var result = await act(c, "hand-back", {}, c.handBack, "The conversation is back with the bot.");
    if (result) mergeSummary(c, result.data);
  }

  async function onTransfer() {
    var c = conv;
    if (!c) return;
    var target = c.transferTarget.value;
    var body;
    if (target.indexOf("staff:") === 0) body = { staff_id: target.slice(6) };
    else if (target.indexOf("team:") === 0) body = { team: target.slice(5) };
    if (!body) {
      setStatus("Choose a colleague or a team to transfer to.", "error");
      c.transferTarget.focus();
      return;
    }
    var label = c.transferTarget.options[c.transferTarget.selectedIndex].textContent;
    var result = await act(c, "transfer", body, c.transfer, "Transferred to " + label + ".");
    if (result) mergeSummary(c, result.data);
  }

  async function onClose() {
    var c = conv;
    if (!c) return;
    var outcome = c.closeOutcome.value;
    var reason = c.closeReason.value.trim();
    var verdict = VERDICTS[outcome];
    if (verdict && !reason) {
      setStatus("Give a reason when you accept or reject the lead.", "error");
      c.closeReason.focus();
      return;
    }
    var body = { outcome: outcome, reason: reason };
    if (verdict) body.lead_verdict = verdict;
    var result = await act(c, "close", body, c.close, "The conversation is closed.");
    if (result) {
      c.closeReason.value = "";
      mergeSummary(c, result.data);
    }
  }

  async function sendReply() {
    var c = conv;
    if (!c || c.sending) return;
    var text = c.replyText.value.trim();
    if (!text) return;
    c.sending = true;
    c.replySend.disabled = true;
    var result = await api("POST", "/handoffs/" + c.id + "/messages", { text: text });
    c.sending = false;
    c.replySend.disabled = false;
    if (result.stale || result.status === 401 || c !== conv) return;
    if (!result.ok) {
      setStatus(errorText(result, "The message was not sent"), "error");
      refresh();
      return;
    }
    c.replyText.value = "";
    c.forceScroll = true;
    setStatus("");
    refresh();
  }

  async function addNote() {
    var c = conv;
    if (!c || c.noteAdd.disabled) return;
    var text = c.noteText.value.trim();
    if (!text) {
      setStatus("Write the note first.", "error");
      c.noteText.focus();
      return;
    }
    c.noteAdd.disabled = true;
    var result = await api("POST", "/handoffs/" + c.id + "/notes", { text: text });
    c.noteAdd.disabled = false;
    if (result.stale || result.status === 401 || c !== conv) return;
    if (!result.ok) {
      setStatus(errorText(result, "The note was not saved"), "error");
      return;
    }
    c.noteText.value = "";
    setStatus("Note saved.", "ok");
    refresh();
  }

  async function editAnswer(c, row) {
    if (c !== conv || row.button.disabled) return;
    var text = row.input.value.trim();
    if (!text) {
      row.error.textContent = "Type the new answer first.";
      row.input.focus();
      return;
    }
    row.button.disabled = true;
    row.error.textContent = "";
    var result = await api("POST", "/handoffs/" + c.id + "/answers", { attribute: row.key, text: text });
    row.button.disabled = false;
    if (result.stale || result.status === 401 || c !== conv) return;
    if (!result.ok) {
      var message = errorText(result, "The answer was not saved");
      row.error.textContent = message;
      setStatus(message, "error");
      return;
    }
    row.input.value = "";
    setStatus("The answer to " + row.key + " is saved.", "ok");
    if (state.detail && result.data && typeof result.data === "object") {
      state.detail.lead = result.data;
      renderLead(c, result.data);
    }
    refresh();
  }

  function teamLabel(key) {
    var teams = state.queue && Array.isArray(state.queue.teams) ? state.queue.teams : [];
    for (var i = 0; i < teams.length; i += 1) {
      if (teams[i].key === key) return teams[i].label || key;
    }
    return key;
  }

  function updateTransferTargets() {
    var c = conv;
    if (!c || !state.queue || !state.me) return;
    var staff = Array.isArray(state.queue.staff) ? state.queue.staff : [];
    var teams = Array.isArray(state.queue.teams) ? state.queue.teams : [];
    var key = JSON.stringify([staff, teams, state.me.staff_id]);
    if (key === c.targetsKey) return; // rebuilding would close an open drop-down
    c.targetsKey = key;
    var select = c.transferTarget;
    var previous = select.value;
    clear(select);
    select.appendChild(option("", "Choose colleague or team…"));
    var people = el("optgroup", { attrs: { label: "Colleagues" } });
    staff.filter(function (member) {
      return member.id !== state.me.staff_id;
    }).forEach(function (member) {
      var label = (member.online ? "● " : "○ ") + (member.name || member.id) + " · " + teamLabel(member.team) +
        (member.online ? " · online" : " · offline");
      people.appendChild(option("staff:" + member.id, label, member.online ? "online" : "offline"));
    });
    var groups = el("optgroup", { attrs: { label: "Teams" } });
    teams.forEach(function (team) {
      groups.appendChild(option("team:" + team.key, "Team " + (team.label || team.key)));
    });
    if (people.children.length) select.appendChild(people);
    if (groups.children.length) select.appendChild(groups);
    select.value = previous;
    if (select.value !== previous) select.value = "";
  }

  // -- users (admins only) ------------------------------------------------------------

  function buildUsersPanel() {
    var p = {};
    p.list = el("tbody", { id: "users-list" });
    p.status = el("p", { id: "users-status", cls: "users-status", attrs: { role: "status" } });
    p.username = el("input", { id: "user-username", attrs: { type: "text", maxlength: 64, autocomplete: "off", autocapitalize: "none", spellcheck: "false" } });
    p.password = el("input", { id: "user-password", attrs: { type: "password", maxlength: 256, autocomplete: "new-password" } });
    p.displayName = el("input", { id: "user-display-name", attrs: { type: "text", maxlength: 100 } });
    p.role = el("select", { id: "user-role" }, [option("agent", "agent"), option("admin", "admin")]);
    p.staffOptions = el("datalist", { id: "user-staff-options" });
    p.staffId = el("input", { id: "user-staff-id", attrs: { type: "text", maxlength: 64, list: "user-staff-options", autocomplete: "off" } });
    p.add = el("button", { id: "user-add", cls: "primary", text: "Add user" });
    p.add.type = "submit";
    function field(label, input, hint) {
      return el("label", { cls: "field" }, [el("span", { text: label }), input, hint ? el("small", { cls: "muted", text: hint }) : null]);
    }
    p.form = el("form", { id: "user-form", cls: "user-form", attrs: { novalidate: "" } }, [
      el("h3", { text: "Add a user" }),
      field("Username", p.username, "3–64 characters: a–z, 0–9, . _ -"),
      field("Password", p.password, "at least 10 characters"),
      field("Display name (optional)", p.displayName),
      field("Role", p.role),
      field("Staff id (optional)", p.staffId, "links the login to a staff member of the routing"),
      p.staffOptions,
      p.add
    ]);
    p.form.addEventListener("submit", function (event) {
      event.preventDefault();
      addUser();
    });
    p.root = el("section", { id: "users", cls: "panel users-panel", attrs: { "aria-labelledby": "users-title" } }, [
      el("h2", { id: "users-title", text: "Users" }),
      el("table", { cls: "users-table" }, [
        el("thead", {}, [el("tr", {}, [el("th", { text: "Login" }), el("th", { text: "Status" }), el("th", { text: "" })])]),
        p.list
      ]),
      p.status,
      p.form
    ]);
    return p;
  }

  function updateStaffOptions() {
    var p = usersPanel;
    if (!p || !state.queue) return;
    clear(p.staffOptions);
    (Array.isArray(state.queue.staff) ? state.queue.staff : []).forEach(function (member) {
      p.staffOptions.appendChild(option(member.id, member.name || member.id));
    });
  }

  function usersMessage(message, kind) {
    if (!usersPanel) return;
    usersPanel.status.textContent = message || "";
    usersPanel.status.className = "users-status" + (kind ? " status-" + kind : "");
  }

  async function loadUsers() {
    var p = usersPanel;
    if (!p) return;
    var result = await api("GET", "/users");
    if (result.stale || result.status === 401 || p !== usersPanel) return;
    if (!result.ok) {
      usersMessage(errorText(result, "The users could not be loaded"), "error");
      return;
    }
    state.users = Array.isArray(result.data.users) ? result.data.users : [];
    clear(p.list);
    state.users.forEach(function (user) {
      var control = null;
      if (state.me && user.username === state.me.username) {
        control = el("span", { cls: "muted", text: "you" });
      } else {
        control = el("button", {
          cls: "user-active",
          text: user.active ? "Disable" : "Enable",
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
          el("div", { cls: "muted", text: orDash(user.role) + " · staff " + orDash(user.staff_id) })
        ]),
        el("td", {}, [el("span", { cls: "badge " + (user.active ? "user-on" : "user-off"), text: user.active ? "active" : "disabled" })]),
        el("td", {}, [control])
      ]));
    });
  }

  async function setActive(username, active, control) {
    control.disabled = true;
    var result = await api("POST", "/users/" + encodeURIComponent(username) + "/active", { active: active });
    control.disabled = false;
    if (result.stale || result.status === 401) return;
    if (!result.ok) {
      usersMessage(errorText(result, "The user was not changed"), "error");
      return;
    }
    usersMessage(username + (active ? " is enabled." : " is disabled."), "ok");
    loadUsers();
  }

  async function addUser() {
    var p = usersPanel;
    if (!p || p.add.disabled) return;
    var body = {
      username: p.username.value.trim(),
      password: p.password.value,
      role: p.role.value
    };
    if (!body.username || !body.password) {
      usersMessage("A new user needs a username and a password.", "error");
      return;
    }
    var staffId = p.staffId.value.trim();
    var displayName = p.displayName.value.trim();
    if (staffId) body.staff_id = staffId;
    if (displayName) body.display_name = displayName;
    p.add.disabled = true;
    var result = await api("POST", "/users", body);
    p.add.disabled = false;
    if (result.stale || result.status === 401 || p !== usersPanel) return;
    if (!result.ok) {
      usersMessage(errorText(result, "The user was not added"), "error");
      return;
    }
    p.form.reset();
    usersMessage("User " + (result.data.username || body.username) + " added.", "ok");
    loadUsers();
  }

  // -- data protection (admins only) --------------------------------------------------
  //
  // Export (DSGVO Art. 15/20) downloads the JSON document as the server sent it; erasure
  // (Art. 17) asks first, then shows only counts. Nothing of the person is shown here.

  function buildPrivacyPanel() {
    var p = { busy: false };
    p.who = el("input", {
      id: "privacy-who",
      attrs: { type: "text", maxlength: 254, autocomplete: "off", autocapitalize: "none", spellcheck: "false" }
    });
    p.exportButton = button("Exportieren", "privacy-export");
    p.eraseButton = button("Löschen", "privacy-erase");
    p.confirmButton = button("Ja, unwiderruflich löschen", "privacy-erase-confirm", "danger");
    p.cancelButton = button("Abbrechen", "privacy-erase-cancel");
    p.confirm = el("div", { id: "privacy-confirm", cls: "privacy-confirm", attrs: { role: "alertdialog", "aria-labelledby": "privacy-confirm-text" } }, [
      el("p", {
        id: "privacy-confirm-text",
        text: "Alles zu dieser Person löschen: Antworten, Gesprächsverläufe, Nachrichten und Notizen? Das lässt sich nicht rückgängig machen."
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
      el("h2", { id: "privacy-title", text: "Datenschutz" }),
      el("label", { cls: "field" }, [el("span", { text: "E-Mail-Adresse oder Telefonnummer" }), p.who]),
      el("div", { cls: "privacy-actions" }, [p.exportButton, p.eraseButton]),
      p.confirm,
      p.status
    ]);
    return p;
  }

  function privacyMessage(message, kind) {
    if (!privacyPanel) return;
    privacyPanel.status.textContent = message || "";
    privacyPanel.status.className = "users-status" + (kind ? " status-" + kind : "");
  }

  function privacyWho(p) {
    // One field for both: an @ makes it an email address, anything else a phone number.
    var value = p.who.value.trim();
    if (!value) {
      privacyMessage("Gib eine E-Mail-Adresse oder Telefonnummer ein.", "error");
      p.who.focus();
      return null;
    }
    return value.indexOf("@") >= 0 ? { email: value } : { phone: value };
  }

  function privacyBusy(p, busy) {
    p.busy = busy;
    p.exportButton.disabled = busy;
    p.eraseButton.disabled = busy;
    p.confirmButton.disabled = busy;
  }

  async function exportPerson() {
    var p = privacyPanel;
    if (!p || p.busy) return;
    var who = privacyWho(p);
    if (!who) return;
    p.confirm.hidden = true;
    var key = who.email ? "email" : "phone";
    var generation = state.generation;
    privacyBusy(p, true);
    privacyMessage("Export läuft …", "info");
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
    if (generation !== state.generation || p !== privacyPanel) return;
    if (!reply) {
      privacyMessage("Der Server ist nicht erreichbar. Prüfe die Verbindung und versuche es noch einmal.", "error");
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
      privacyMessage(errorText(result, "Der Export hat nicht funktioniert"), "error");
      return;
    }
    var leads = Array.isArray(result.data.leads) ? result.data.leads.length : 0;
    if (!leads) {
      privacyMessage("Niemand mit dieser E-Mail-Adresse oder Telefonnummer gefunden.", "info");
      return;
    }
    var named = /filename="([A-Za-z0-9._-]+)"/.exec(reply.headers.get("Content-Disposition") || "");
    download(text, named ? named[1] : "lotse-export.json");
    privacyMessage("Export heruntergeladen (" + leads + (leads === 1 ? " Lead)." : " Leads)."), "ok");
  }

  function download(text, filename) {
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

  async function erasePerson() {
    var p = privacyPanel;
    if (!p || p.busy) return;
    var who = privacyWho(p);
    if (!who) return;
    privacyBusy(p, true);
    privacyMessage("Löschen läuft …", "info");
    var result = await api("POST", "/privacy/erase", Object.assign({ confirm: true }, who));
    privacyBusy(p, false);
    if (result.stale || result.status === 401 || p !== privacyPanel) return;
    p.confirm.hidden = true;
    if (!result.ok) {
      privacyMessage(errorText(result, "Das Löschen hat nicht funktioniert"), "error");
      return;
    }
    var leads = Number(result.data.leads) || 0;
    var conversations = Number(result.data.conversations) || 0;
    if (!leads) {
      privacyMessage("Niemand mit dieser E-Mail-Adresse oder Telefonnummer gefunden; nichts gelöscht.", "info");
      return;
    }
    p.who.value = "";
    privacyMessage("Gelöscht: " + leads + (leads === 1 ? " Lead, " : " Leads, ") +
      conversations + (conversations === 1 ? " Gespräch." : " Gespräche."), "ok");
    refresh(); // the queue may have shown the person's conversations
  }

  // -- start --------------------------------------------------------------------------

  function start() {
    $("login-form").addEventListener("submit", onLogin);
    $("logout").addEventListener("click", onLogout);
    $("presence").addEventListener("change", onPresence);
    boot();
  }

  if (document.readyState === "loading") {
    document.addEventListener("DOMContentLoaded", start);
  } else {
    start();
  }
})();
