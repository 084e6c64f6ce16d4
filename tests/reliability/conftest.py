"""The reliability suite: sizes from RELIABILITY_SCALE, figures printed at the end of the run.

``make reliability`` sets RELIABILITY_SCALE=full and RELIABILITY_REPORT=<path>; the summary
table (rounds, faults injected, messages sent, lost, duplicated, bad inputs tried, server
errors) then also lands there as JSON.
"""

from __future__ import annotations

import os
from pathlib import Path

import pytest

from tests.helpers.reliability_world import FIGURES, FULL


def pytest_terminal_summary(terminalreporter: pytest.TerminalReporter) -> None:
    if not FIGURES.per_test:
        return
    scale = "full" if FULL else "fast"
    terminalreporter.section(f"reliability summary ({scale} scale)")
    terminalreporter.write_line(FIGURES.table())
    report = os.environ.get("RELIABILITY_REPORT")
    if report:
        Path(report).write_text(FIGURES.to_json() + "\n", encoding="utf-8")
