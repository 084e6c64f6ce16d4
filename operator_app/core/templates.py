"""Quick-reply template rendering: known variables are filled, the rest are reported missing."""

from __future__ import annotations

import re
from collections.abc import Mapping
from typing import TYPE_CHECKING

from .rows import RenderedTemplate

if TYPE_CHECKING:  # the service imports this module for the first paint; pydantic loads later
    from operator_app.protocol.models import Template

KNOWN_VARIABLES = ("client_name", "operator_name", "dialog_id", "queue_name")

# "{name}" is a variable; "{{" and "}}" are literal braces.
_TOKEN = re.compile(r"\{\{|\}\}|\{(\w+)\}")


def render(template: Template | str, values: Mapping[str, str]) -> RenderedTemplate:
    """Fill ``{variables}`` from ``values``; unfilled ones stay visible and are listed."""
    body = template if isinstance(template, str) else template.body
    missing: list[str] = []

    def replace(match: re.Match[str]) -> str:
        token = match.group(0)
        if token in ("{{", "}}"):
            return token[0]
        name = match.group(1)
        value = values.get(name)
        if value:
            return value
        if name not in missing:
            missing.append(name)
        return token

    return RenderedTemplate(_TOKEN.sub(replace, body), missing)


def variables(body: str) -> list[str]:
    """The variable names a template body uses, in order of first appearance."""
    seen: list[str] = []
    for match in _TOKEN.finditer(body):
        name = match.group(1)
        if name and name not in seen:
            seen.append(name)
    return seen
