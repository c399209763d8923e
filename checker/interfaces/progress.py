"""The progress line of a long run (stderr, on a terminal only).

``progress_text(label, stats, limits)`` is the line itself: elapsed time against the time
limit, states (against the state limit), the queue of states not yet expanded and the
rate, e.g. ``exploring: 12 s / 60 s, 1,234,567 states, queue 12,345, depth 14, 45,000
states/s``. ``progress_display`` shows it as a rich status line; its ``Status`` can take a
new label (``audit``: which cell is running).
"""

from __future__ import annotations

from collections.abc import Iterator
from contextlib import contextmanager

import click
from rich.console import Console
from rich.status import Status as RichStatus

from checker.config import Limits
from checker.result import Stats


def seconds_text(x: float) -> str:
    """``0.4 s``, ``12 s``: one decimal below ten seconds."""
    return f"{x:.1f} s" if x < 10 else f"{x:.0f} s"


def elapsed_text(seconds: float, timeout: float | None) -> str:
    """``12 s / 60 s`` against the limit, ``12 s`` without one."""
    shown = seconds_text(seconds)
    return f"{shown} / {seconds_text(timeout)}" if timeout is not None else shown


def progress_text(label: str, s: Stats, limits: Limits | None = None) -> str:
    """The progress line of ``s``; states against ``limits.max_states`` when set (for the
    unit ``states``); ``queue`` when the engine reports it."""
    lim = limits or Limits()
    parts = [elapsed_text(s.seconds, lim.timeout)]
    if s.unit != "states":  # prove: building the graph of control shapes
        parts += [f"{s.states:,} {s.unit}", f"{s.transitions:,} edges"]
        return f"{label}: " + ", ".join(parts)
    states = f"{s.states:,}" + (f" / {lim.max_states:,}" if lim.max_states is not None else "") + " states"
    parts.append(states)
    if s.queue is not None:
        parts.append(f"queue {s.queue:,}")
    parts += [f"depth {s.max_depth}", f"{s.states_per_second:,.0f} states/s"]
    return f"{label}: " + ", ".join(parts)


class Status:
    """A progress sink: ``update(stats)`` redraws the line, ``label`` names what runs,
    ``limits`` are the run's limits. Without a terminal it draws nothing."""

    def __init__(self, label: str, limits: Limits | None, status: RichStatus | None) -> None:
        self.label = label
        self.limits = limits
        self._status = status

    @property
    def shown(self) -> bool:
        """Whether a status line is drawn (stderr is a terminal and progress is on)."""
        return self._status is not None

    def relabel(self, label: str, limits: Limits | None = None) -> None:
        """A new label (and limits) for the next updates; redrawn at once."""
        self.label = label
        if limits is not None:
            self.limits = limits
        if self._status is not None:
            self._status.update(f"{label}…")

    def line(self, text: str) -> None:
        """Print ``text`` as a line of its own on stderr (above the status line when drawn)."""
        if self._status is not None:
            self._status.console.print(text, markup=False, highlight=False, soft_wrap=True)
        else:
            click.echo(text, err=True)

    def update(self, s: Stats) -> None:
        if self._status is not None:
            self._status.update(progress_text(self.label, s, self.limits))


@contextmanager
def progress_display(enabled: bool, label: str = "exploring", limits: Limits | None = None) -> Iterator[Status]:
    """A ``Status`` drawing on stderr when ``enabled`` and stderr is a terminal."""
    console = Console(stderr=True)
    if not enabled or not console.is_terminal:
        yield Status(label, limits, None)
        return
    with console.status(f"{label}…") as status:
        yield Status(label, limits, status)
