"""Small text helpers for the UI: times, durations, one-line previews."""

from __future__ import annotations

from datetime import datetime, timedelta

from .i18n import tr


def one_line(text: str, limit: int = 200) -> str:
    """Collapse whitespace and line breaks; cut very long text for list previews."""
    return " ".join(text[: limit * 2].split())[:limit]


def short_time(moment: datetime, now: datetime) -> str:
    local = moment.astimezone()
    if local.date() == now.astimezone().date():
        return local.strftime("%H:%M")
    if (now - moment) < timedelta(days=6):
        return local.strftime("%a")
    return local.strftime("%d.%m")


def elapsed_short(delta: timedelta) -> str:
    seconds = max(int(delta.total_seconds()), 0)
    if seconds < 60:
        return tr("{n}s").format(n=seconds)
    if seconds < 3600:
        return tr("{m}m {s:02d}s").format(m=seconds // 60, s=seconds % 60)
    if seconds < 86400:
        return tr("{h}h {m:02d}m").format(h=seconds // 3600, m=seconds % 3600 // 60)
    return tr("{d}d").format(d=seconds // 86400)


def day_label(moment: datetime, now: datetime) -> str:
    day = moment.astimezone().date()
    today = now.astimezone().date()
    if day == today:
        return tr("Today")
    if day == today - timedelta(days=1):
        return tr("Yesterday")
    return day.strftime("%d.%m.%Y")
