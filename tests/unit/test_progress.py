"""The progress line (issue 10 item 5): elapsed time against the limit, states (against the
state limit), queue and rate; explore reports its queue while it runs, never in the result."""

from __future__ import annotations

import pytest

import checker.engines.explore as explore_module
from checker.config import Limits
from checker.interfaces.loader import config_from_options
from checker.interfaces.progress import elapsed_text, progress_display, progress_text, seconds_text
from checker.result import Stats
from spec.tim3 import SPEC


def test_seconds_and_elapsed() -> None:
    assert [seconds_text(x) for x in (0.04, 9.94, 12.4, 61.6)] == ["0.0 s", "9.9 s", "12 s", "62 s"]
    assert elapsed_text(12.4, 60) == "12 s / 60 s"
    assert elapsed_text(2.5, 0.5) == "2.5 s / 0.5 s"
    assert elapsed_text(3.0, None) == "3.0 s"


def test_progress_line_with_limits() -> None:
    s = Stats(states=1_234_567, transitions=9_000_000, max_depth=14, seconds=12.2, queue=12_345)
    line = progress_text("exploring", s, Limits(timeout=60, max_states=2_000_000))
    assert line == "exploring: 12 s / 60 s, 1,234,567 / 2,000,000 states, queue 12,345, depth 14, 101,194 states/s"


def test_progress_line_without_limits_or_queue() -> None:
    s = Stats(states=500, max_depth=3, seconds=0.5)
    assert progress_text("exploring", s) == "exploring: 0.5 s, 500 states, depth 3, 1,000 states/s"


def test_progress_line_of_prove_counts_shapes() -> None:
    s = Stats(states=300, transitions=900, seconds=4.0, unit="control shapes")
    assert progress_text("proving", s, Limits(timeout=30)) == "proving: 4.0 s / 30 s, 300 control shapes, 900 edges"


def test_no_terminal_no_status_line() -> None:
    with progress_display(True, limits=Limits(timeout=5)) as status:  # pytest's stderr is not a terminal
        assert not status.shown and status.limits == Limits(timeout=5)
        status.relabel("auditing cell 1/2")
        status.update(Stats())  # draws nothing, raises nothing
        assert status.label == "auditing cell 1/2"


def test_explore_reports_its_queue_while_running(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setattr(explore_module, "PROGRESS_EVERY", 0.0)  # a tick every 256 expanded states
    seen: list[tuple[int, int | None, int]] = []
    result = explore_module.explore(SPEC, config_from_options(SPEC),
                                    lambda s: seen.append((s.states, s.queue, s.max_depth)))
    assert seen[:3] == [(512, 256, 7), (920, 408, 8), (1323, 555, 9)]  # states found, not yet expanded, depth
    assert seen[-1] == (44_253, None, 32) and result.stats.queue is None  # the result does not depend on ticks
