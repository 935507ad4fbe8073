"""The demo site's pages: which URL shows which page key, in which language.

Page text comes from the FAQ content (the topic a page is about), so the demo site
says what the bot says. Pure Python; everything inserted into HTML is escaped.
"""

from __future__ import annotations

from dataclasses import dataclass
from html import escape
from pathlib import Path
from string import Template

from dialogue.content import Content

TEMPLATE = Template((Path(__file__).parent / "templates" / "page.html").read_text(encoding="utf-8"))


@dataclass(frozen=True)
class Route:
    path: str
    page: str
    language: str


ROUTES = [
    Route("/", "home", "de"),
    Route("/pressen", "presses", "de"),
    Route("/foerderanlagen", "conveyors", "de"),
    Route("/software", "software", "de"),
    Route("/service", "service", "de"),
    Route("/en/", "home", "en"),
    Route("/en/presses", "presses", "en"),
    Route("/en/conveyors", "conveyors", "en"),
    Route("/en/software", "software", "en"),
    Route("/en/service", "service", "en"),
]
ROUTES_BY_PATH = {route.path: route for route in ROUTES}
NAV_LABELS = {
    "de": {
        "home": "Start",
        "presses": "Pressen",
        "conveyors": "Förderanlagen",
        "software": "Software",
        "service": "Service",
    },
    "en": {
        "home": "Home",
        "presses": "Presses",
        "conveyors": "Conveyors",
        "software": "Software",
        "service": "Service",
    },
}


def find_route(path: str) -> Route | None:
    return ROUTES_BY_PATH.get(path) or ROUTES_BY_PATH.get(path.rstrip("/") or "/")


def _nav(language: str, current: str) -> str:
    links = []
    for route in ROUTES:
        if route.language != language:
            continue
        label = escape(NAV_LABELS[language][route.page])
        active = ' aria-current="page"' if route.page == current else ""
        links.append(f'<a href="{escape(route.path)}"{active}>{label}</a>')
    other = "en" if language == "de" else "de"
    switch = next(r for r in ROUTES if r.language == other and r.page == current)
    links.append(f'<a class="lang" href="{escape(switch.path)}">{other.upper()}</a>')
    return "\n".join(links)


def render_page(route: Route, content: Content) -> str:
    page = content.pages[route.page]
    topic = content.topics[page.topic]
    return TEMPLATE.substitute(
        lang=escape(route.language),
        page=escape(route.page),
        title=escape(topic.title[route.language]),
        nav=_nav(route.language, route.page),
        intro=escape(page.intro[route.language]),
        body=escape(topic.answer[route.language]),
    )
