"""A custom action that fails fails its turn: its events are never silently dropped.

Rasa 3.6 catches any error of an action run ("Bot will continue, but the actions
events are lost"): when the action server is restarting, unreachable or answers an
error (Lotse's own time limit answers 504, `bot/action_server.py`), the turn goes on
without the action's events and is saved as if it had run. A qualification answer
would be lost while the visitor saw a normal reply.

`install()` (called where Lotse starts the Rasa server, `bot/rasa_server.py`) makes a
failed custom action raise `ActionFailed` out of the turn instead: nothing of the turn
is saved (Rasa saves a conversation at the end of its turn), the REST channel answers
503 and the widget shows its "try again" line (`bot/channels/rest.py`), a messenger
visitor is asked to send the message again, and the message, sent again, runs the
whole turn anew. Rasa's own actions are left as they are.
"""

from __future__ import annotations

import contextvars
import logging
from typing import Any

from rasa.core.actions.action import RemoteAction
from rasa.core.processor import MessageProcessor

log = logging.getLogger(__name__)
_failure: contextvars.ContextVar[BaseException | None] = contextvars.ContextVar(
    "lotse_action_failure", default=None
)


class ActionFailed(RuntimeError):
    """A custom action could not run; the turn stops and saves nothing."""


RASA_RUN_ACTION = MessageProcessor._run_action  # Rasa's own, whether installed or not


def install() -> None:
    if getattr(MessageProcessor._run_action, "lotse_loud", False):
        return
    remote_run = RemoteAction.run
    run_action = RASA_RUN_ACTION

    async def run(self: RemoteAction, *args: Any, **kwargs: Any) -> Any:
        try:
            return await remote_run(self, *args, **kwargs)
        except Exception as error:
            _failure.set(error)
            raise

    async def loud_run_action(
        self: MessageProcessor, action: Any, *args: Any, **kwargs: Any
    ) -> bool:
        token = _failure.set(None)
        try:
            result = await run_action(self, action, *args, **kwargs)
            failure = _failure.get()
        finally:
            _failure.reset(token)
        if failure is not None:
            log.error("custom action %s failed (%s); the turn fails", action.name(),
                      type(failure).__name__)  # fmt: skip
            raise ActionFailed(action.name()) from failure
        return result

    loud_run_action.lotse_loud = True  # type: ignore[attr-defined]
    RemoteAction.run = run  # type: ignore[method-assign]
    MessageProcessor._run_action = loud_run_action  # type: ignore[method-assign]
