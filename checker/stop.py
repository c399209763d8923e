"""Stop requests: Ctrl-C, SIGTERM, the run's deadline and handlers that never return.

One process-wide *stop reason* (``requested()``: ``None`` while the run may go on) that
every engine polls where it polls its limits, and turns into UNKNOWN verdicts naming it
("stopped: interrupted (SIGINT)"). ``guard(timeout)`` (the CLI's ``check``, main thread
only) installs what sets it:

* SIGINT and SIGTERM handlers (``interrupted_by()`` then names the signal; the CLI exits
  130 / 143). A second signal stops at once (``Stopped`` from wherever the run is).
* A watcher thread woken by the signals (``signal.set_wakeup_fd``: it runs even while the
  main thread is inside a z3 call) and every ``TICK`` seconds. It sets the reason for a
  signal or for the deadline ``timeout`` and calls the ``on_stop`` callbacks and the
  ``interrupt()`` of every ``interruptible`` object (the z3 engines register one that
  interrupts the solver call in progress, so a long call ends promptly).
* A per-delivery watchdog: ``PythonProcess`` marks the handler or initiative it runs
  (``enter_handler``); when a stop is requested while one runs, or one delivery runs
  longer than ``handler_budget`` seconds without a ``beat`` (a solver call of a symbolic
  run), the watcher sends SIGALRM to the main thread, whose handler raises ``Stopped``
  (or ``HandlerTimeout``, a spec error) inside it. Engines catch ``Stopped`` and report
  what they established.

Without ``guard`` nothing is installed: ``request`` (tests, embedders) and the engines'
polls still work. z3 solvers must be made with ``ctrl_c`` off (``solver.make_solver``):
z3's own SIGINT handler would swallow Ctrl-C and only cancel the current call.
"""

from __future__ import annotations

import math
import os
import select
import signal
import threading
import time
import weakref
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from dataclasses import dataclass, field
from typing import Any

from checker.errors import SpecError

TICK = 0.2  # seconds between the watcher's checks
HANDLER_BUDGET = 10.0  # seconds one delivery of a Python handler may take (no --timeout given)


class Stopped(BaseException):
    """The run was asked to stop (``reason``) while a handler ran, or a second signal came.

    A ``BaseException`` so that no ``except Exception`` (in a spec, Hypothesis or an
    engine) turns it into a verdict; the engine that catches it reports UNKNOWN."""

    def __init__(self, reason: str) -> None:
        super().__init__(reason)
        self.reason = reason


class HandlerTimeout(SpecError):
    """A Python handler ran longer than the per-delivery budget: a spec error (exit 2)."""


@dataclass
class _State:
    reason: str | None = None  # why the run stops (None: it goes on)
    signal_name: str | None = None  # the signal that asked (SIGINT, SIGTERM), if one did
    running: tuple[str, str, Any] | None = None  # (handler, pid, message) of the delivery in progress
    stuck: tuple[tuple[str, str, Any], str] | None = None  # a delivery over budget, and the watchdog's message
    beats: int = 0  # work outside Python that a long delivery is doing (z3 calls of a symbolic run)
    callbacks: list[Callable[[], None]] = field(default_factory=list)
    interruptibles: weakref.WeakSet[Any] = field(default_factory=weakref.WeakSet)
    lock: threading.Lock = field(default_factory=threading.Lock)
    settled: threading.Event = field(default_factory=threading.Event)  # the callbacks of the request have run


_state = _State()


def requested() -> str | None:
    """Why the run must stop (``None``: it may go on). Cheap: one attribute read."""
    return _state.reason


def interrupted_by() -> str | None:
    """The signal that stopped the run (``"SIGINT"``, ``"SIGTERM"``), if one did."""
    return _state.signal_name


def request(reason: str, signal_name: str | None = None) -> None:
    """Ask every engine to stop with ``reason`` (the first request wins) and interrupt
    the solver calls in progress (``on_stop`` callbacks)."""
    with _state.lock:
        if _state.reason is not None:
            return
        _state.reason = reason
        _state.signal_name = signal_name
        callbacks = [*_state.callbacks, *(o.interrupt for o in list(_state.interruptibles))]
    try:
        for cb in callbacks:
            cb()
    finally:
        _state.settled.set()


def settle(timeout: float = 2.0) -> None:
    """Once a stop is requested: wait until its callbacks have run (so that z3's cancel
    flag, which stays set until the next solver check, can be cleared after it)."""
    if _state.reason is not None:
        _state.settled.wait(timeout)


def reset() -> None:
    """Forget a previous stop request (before a new run in the same process)."""
    with _state.lock:
        _state.reason = _state.signal_name = _state.stuck = None
        _state.running = None
        _state.settled.clear()


def poll() -> None:
    """Raise ``Stopped`` if a stop was requested (for loops that have no verdicts of
    their own to finish)."""
    if _state.reason is not None:
        raise Stopped(_state.reason)


def interruptible(obj: Any) -> None:
    """Call ``obj.interrupt()`` (from any thread, so it must be thread-safe: z3's
    ``Context.interrupt`` is) on every stop request while ``obj`` lives (held weakly)."""
    with _state.lock:
        _state.interruptibles.add(obj)


@contextmanager
def on_stop(callback: Callable[[], None]) -> Iterator[None]:
    """Call ``callback`` (from any thread) when a stop is requested inside the block."""
    with _state.lock:
        _state.callbacks.append(callback)
    try:
        if _state.reason is not None:
            callback()
        yield
    finally:
        with _state.lock:
            _state.callbacks.remove(callback)


def enter_handler(handler: str, pid: str, msg: Any) -> tuple[str, str, Any] | None:
    """Mark a delivery of ``handler`` in progress (``msg`` None: an initiative); returns the
    previous mark (nested runs)."""
    prev = _state.running
    _state.running = (handler, pid, msg)
    return prev


def leave_handler(prev: tuple[str, str, Any] | None) -> None:
    """End the mark of ``enter_handler`` (restoring ``prev``)."""
    _state.running = prev


def beat() -> None:
    """A delivery in progress is working (a solver call of a symbolic run): the watchdog's
    budget counts from the last beat, so only a handler stuck in its own code runs out."""
    _state.beats += 1


def signal_reason(name: str) -> str:
    """The stop reason a signal gives: ``interrupted (SIGINT)``."""
    return f"interrupted ({name})"


def _describe(running: tuple[str, str, Any]) -> str:
    handler, pid, msg = running
    if msg is None:
        return f"initiative {handler!r} of {pid}"
    shown = msg.describe() if hasattr(msg, "describe") else repr(msg)
    return f"handler {handler!r} of {pid} on message {shown}"


@contextmanager
def guard(timeout: float | None = None, handler_budget: float = HANDLER_BUDGET) -> Iterator[None]:
    """Install the signal handlers, the watcher thread and the watchdog for one run (see
    the module docstring); a no-op outside the main thread. ``timeout``: the run's
    deadline in seconds from now (``None``: none)."""
    if threading.current_thread() is not threading.main_thread():
        yield
        return
    reset()
    main_id = threading.main_thread().ident
    assert main_id is not None
    rfd, wfd = os.pipe()
    os.set_blocking(wfd, False)
    os.set_blocking(rfd, False)
    done = threading.Event()
    deadline = time.monotonic() + timeout if timeout is not None and math.isfinite(timeout) else None
    seen: dict[int, int] = {}

    def on_signal(signum: int, frame: Any) -> None:
        name = signal.Signals(signum).name
        seen[signum] = seen.get(signum, 0) + 1
        request(signal_reason(name), name)
        if sum(seen.values()) > 1:  # the second signal: stop now, wherever the run is
            raise Stopped(_state.reason or signal_reason(name))

    def on_alarm(signum: int, frame: Any) -> None:
        running = _state.running
        if running is None or (frame is not None and frame.f_code.co_name == "__del__"):
            return  # (an exception raised in a finaliser would be ignored: the next tick tries again)
        stuck = _state.stuck
        if stuck is not None and stuck[0] is running:  # (not a delivery that started since)
            _state.stuck = None
            raise HandlerTimeout(stuck[1])
        if _state.reason is not None:
            raise Stopped(f"{_state.reason}, while {_describe(running)} was running")

    def watch() -> None:
        last: tuple[str, str, Any] | None = None
        since = time.monotonic()
        beats = _state.beats
        while not done.is_set():
            try:
                ready, _, _ = select.select([rfd], [], [], TICK)
            except (OSError, ValueError):
                return
            if ready:
                try:
                    data = os.read(rfd, 512)
                except (BlockingIOError, OSError):
                    data = b""
                for b in data:
                    if b in (signal.SIGINT, signal.SIGTERM):
                        name = signal.Signals(b).name
                        request(signal_reason(name), name)
            now = time.monotonic()
            if deadline is not None and now >= deadline:
                request(f"timeout {timeout:g}s")
            running = _state.running
            if running is not last or _state.beats != beats:
                last, since, beats = running, now, _state.beats
            elif running is not None:  # the same delivery since the last tick: stop it if it must stop
                if _state.reason is not None:
                    signal.pthread_kill(main_id, signal.SIGALRM)
                elif deadline is None and now - since >= handler_budget:
                    _state.stuck = (running, f"{_describe(running)} did not return within {handler_budget:g} s: "
                                    "a handler must terminate (an endless loop?); pass --timeout to bound the run")
                    signal.pthread_kill(main_id, signal.SIGALRM)

    old = {s: signal.getsignal(s) for s in (signal.SIGINT, signal.SIGTERM, signal.SIGALRM)}
    old_fd = signal.set_wakeup_fd(wfd, warn_on_full_buffer=False)
    signal.signal(signal.SIGINT, on_signal)
    signal.signal(signal.SIGTERM, on_signal)
    signal.signal(signal.SIGALRM, on_alarm)
    watcher = threading.Thread(target=watch, name="tim3check-stop-watcher", daemon=True)
    watcher.start()
    try:
        yield
    finally:
        done.set()
        watcher.join()
        signal.set_wakeup_fd(old_fd)
        for s, h in old.items():
            signal.signal(s, h)
        os.close(rfd)
        os.close(wfd)
        reset()  # the next run in this process starts afresh
