"""Finding http(s) links in untrusted plain text, without ever treating the text as markup."""

from __future__ import annotations

import re
from dataclasses import dataclass

from PySide6.QtCore import QUrl

_CANDIDATE = re.compile(r"\bhttps?://[^\s<>\"'`]+", re.IGNORECASE)
_TRAILING = ".,;:!?'\"»…"
MAX_URL_CHARS = 2048


@dataclass(frozen=True, slots=True)
class Link:
    start: int  # index into the text
    end: int  # exclusive
    url: str


def find_links(text: str) -> list[Link]:
    """Every http(s) URL in ``text``, with trailing punctuation and unmatched ')' left out."""
    links: list[Link] = []
    for match in _CANDIDATE.finditer(text):
        url = _trim(match.group(0))
        if len(url) > MAX_URL_CHARS or not _valid(url):
            continue
        links.append(Link(match.start(), match.start() + len(url), url))
    return links


def link_at(text: str, position: int) -> Link | None:
    return next((link for link in find_links(text) if link.start <= position < link.end), None)


def _trim(url: str) -> str:
    while url:
        last = url[-1]
        unbalanced = last == ")" and url.count("(") < url.count(")")
        if last in _TRAILING or unbalanced:
            url = url[:-1]
        else:
            break
    return url


def _valid(url: str) -> bool:
    parsed = QUrl(url, QUrl.ParsingMode.StrictMode)
    return parsed.isValid() and parsed.scheme().lower() in ("http", "https") and bool(parsed.host())
