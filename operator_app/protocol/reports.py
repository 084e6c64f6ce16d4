"""Supervisor boards and reports on the wire (additive to the protocol).

``GET routes.SUPERVISION_BOARD`` -> ``Board``: the live queue and operator boards.
``GET routes.REPORTS`` -> ``Report``: buckets per hour or day with the totals.
``POST routes.WHISPER`` ``WhisperRequest`` -> ``Message``: an internal comment to the assignee.
Every one of them answers 403 ``forbidden`` to the operator role.
Durations are seconds; ``None`` means "no data in that period", never zero.
"""

from __future__ import annotations

from datetime import datetime
from enum import StrEnum

from pydantic import Field

from .limits import MAX_COMMENT_CHARS
from .models import OperatorStatus, StoredText, WireModel

MAX_REPORT_DAYS = 92  # the server refuses longer ranges


class BucketSize(StrEnum):
    HOUR = "hour"
    DAY = "day"


class QueueBoardRow(WireModel):
    queue_id: int
    name: str
    sla_seconds: int
    waiting: int = 0
    longest_wait_seconds: float = 0.0
    active: int = 0
    operators_online: int = 0
    operators_total: int = 0
    over_sla: int = 0  # waiting or unanswered past the queue's SLA now
    over_sla_dialog_ids: list[int] = Field(default_factory=list)


class OperatorBoardRow(WireModel):
    operator_id: int
    name: str
    login: str
    status: OperatorStatus
    capacity: int
    load: int = 0
    active_dialog_ids: list[int] = Field(default_factory=list)
    handled_today: int = 0  # closed since ``Board.day_start``
    median_first_response_seconds: float | None = None  # of today's first responses
    average_rating: float | None = None  # of dialogs closed today
    queue_ids: list[int] = Field(default_factory=list)


class Board(WireModel):
    generated_at: datetime
    day_start: datetime
    queues: list[QueueBoardRow] = Field(default_factory=list)
    operators: list[OperatorBoardRow] = Field(default_factory=list)


class ReportRow(WireModel):
    """One period (or the whole range): dialogs created in it and what became of them."""

    start: datetime
    dialogs: int = 0  # dialogs created (arrivals)
    closed: int = 0
    first_response_median: float | None = None
    first_response_p90: float | None = None
    handling_average: float | None = None  # assignment to close
    handling_median: float | None = None
    rating_average: float | None = None
    ratings: int = 0
    sla_breaches: int = 0  # first response later than the queue's SLA (or none yet, past it)
    operators_active: int = 0  # distinct operators holding a dialog during the period


class Report(WireModel):
    since: datetime
    until: datetime
    bucket: BucketSize
    queue_id: int | None = None
    operator_id: int | None = None
    rows: list[ReportRow] = Field(default_factory=list)
    totals: ReportRow
    rating_counts: list[int] = Field(default_factory=lambda: [0, 0, 0, 0, 0])  # stars 1..5


class WhisperRequest(WireModel):
    text: StoredText = Field(min_length=1, max_length=MAX_COMMENT_CHARS)
