"""The console's languages: its catalogues (console/locale/<lang>/LC_MESSAGES/console.po,
German and English, msgid = the English source text) served to the browser as JSON,
and the language of a server-rendered page (the insights dashboard).

A page's language is the staff member's setting (the login's `language`, see
`handoff.auth`), else the first of German or English the browser's Accept-Language
asks for, else English. Catalogues hold no personal data.
"""

from __future__ import annotations

from pathlib import Path

from sanic.request import Request

from crm_adapter.explanation import Wording
from dialogue.qualification.replies import Replies
from lotse.translations import Translator, from_accept_language, supported

LOCALE = Path(__file__).parent / "locale"
DOMAIN = "console"


def translator(language: str | None) -> Translator:
    return Translator.load(LOCALE, DOMAIN, supported(language) or "en")


def request_language(request: Request, setting: str | None = None) -> str:
    """The staff member's `setting` when it is a supported language, else the
    browser's (Accept-Language)."""
    return supported(setting) or from_accept_language(request.headers.get("accept-language"))


def wording(texts: Translator) -> Wording:
    """The lead card's explanation lines and answers in the language of `texts`: its
    catalogue, dates, and the answers' codes as qualification.yml words them."""
    return Wording(texts.language, texts.gettext, texts.date, Replies(texts.language).value)


def session_language(request: Request) -> str:
    """The language of a logged-in request: the staff member's setting, else the browser's."""
    session = getattr(request.ctx, "session", None)
    return request_language(request, getattr(session, "language", None))
