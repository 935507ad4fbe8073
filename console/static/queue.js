// The queue of handoffs and the agent's presence.

import { updateTransferTargets } from "./actions.js";
import { api, errorText } from "./api.js";
import { setStatus } from "./console.js";
import { openConversation } from "./conversation.js";
import {
  $,
  badge,
  clear,
  dateTime,
  el,
  isMine,
  minutesSeconds,
  orDash,
  routedTo,
  stageName,
  token
} from "./dom.js";
import { t } from "./i18n.js";
import { noticeQueue } from "./notifications.js";
import { NEEDS, REASONS, state } from "./state.js";
import { updateStaffOptions } from "./users.js";

// -- the queue ----------------------------------------------------------------------

export async function loadQueue() {
  var generation = state.generation;
  var result = await api("GET", "/queue");
  if (result.stale || generation !== state.generation || result.status === 401) return;
  var problem = $("queue-error");
  if (!result.ok) {
    if (!problem) {
      problem = el("p", { id: "queue-error", cls: "error" });
      $("queue").parentNode.insertBefore(problem, $("queue"));
    }
    problem.textContent = errorText(result, t("The queue could not be loaded"));
    return;
  }
  if (problem) problem.parentNode.removeChild(problem);
  state.queue = result.data;
  state.queueAt = Date.now();
  renderQueue();
  noticeQueue(state.queue.handoffs); // notifications and the count in the title
  renderPresence();
  updateTransferTargets();
  updateStaffOptions();
}

export function renderQueue() {
  var list = $("queue");
  var focused = document.activeElement && document.activeElement.classList &&
    document.activeElement.classList.contains("queue-item") ? document.activeElement.dataset.id : null;
  var handoffs = Array.isArray(state.queue.handoffs) ? state.queue.handoffs : [];
  clear(list);
  $("queue-count").textContent = handoffs.length ? String(handoffs.length) : "";
  if (!handoffs.length) {
    list.appendChild(el("li", { cls: "empty", text: t("Nobody is waiting right now.") }));
    return;
  }
  handoffs.forEach(function (handoff) {
    var classes = "queue-item state-" + token(handoff.state);
    if (handoff.id === state.openId) classes += " active";
    if (isMine(handoff)) classes += " mine";
    var wait = el("span", {
      cls: "queue-wait",
      text: minutesSeconds(handoff.waiting_seconds || 0),
      attrs: { title: t("Waiting since {time}", { time: dateTime(handoff.requested_at) }) },
      data: { base: handoff.waiting_seconds || 0, since: state.queueAt }
    });
    var item = el("button", { cls: classes, data: { id: handoff.id } }, [
      el("span", { cls: "q-top" }, [
        wait,
        badge(handoff.state),
        el("span", { cls: "q-lang", text: orDash(handoff.language), attrs: { title: t("language") } }),
        el("span", { cls: "q-channel", text: orDash(handoff.channel), attrs: { title: t("channel") } })
      ]),
      el("span", { cls: "q-reason", text: REASONS[handoff.reason] ? t(REASONS[handoff.reason]) + (NEEDS[handoff.need] ? " · " + t(NEEDS[handoff.need]) : "") : orDash(handoff.reason) }),
      el("span", { cls: "q-route" }, [
        el("span", { cls: "q-label", text: t("Routed to") + " " }),
        el("span", { text: routedTo(handoff) })
      ]),
      el("span", { cls: "q-stage" }, [
        el("span", { cls: "q-label", text: t("Lead stage") + " " }),
        el("span", { text: stageName(handoff.lead_stage) })
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

export function markActive() {
  var items = document.querySelectorAll(".queue-item");
  for (var i = 0; i < items.length; i += 1) {
    var active = Number(items[i].dataset.id) === state.openId;
    items[i].classList.toggle("active", active);
    items[i].setAttribute("aria-pressed", active ? "true" : "false");
  }
}

export function renderPresence() {
  var select = $("presence");
  if (state.presencePending || document.activeElement === select || !state.queue) return;
  if (state.queue.status === "available" || state.queue.status === "away") select.value = state.queue.status;
  select.className = "presence-" + token(select.value);
}

export async function onPresence() {
  var select = $("presence");
  var status = select.value;
  select.className = "presence-" + token(status);
  state.presencePending = true;
  var result = await api("PUT", "/presence", { status: status });
  if (result.stale || result.status === 401) return;
  state.presencePending = false;
  if (!result.ok) {
    setStatus(errorText(result, t("The presence was not changed")), "error");
  } else {
    if (state.queue) state.queue.status = result.data.status || status;
    setStatus(status === "away" ? t("You are away now.") : t("You are available now."), "ok");
  }
  renderPresence();
}
