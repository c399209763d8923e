"""What a check returns: one ``PropertyResult`` per property, statistics, exit code."""

from __future__ import annotations

from dataclasses import dataclass, field
from enum import StrEnum
from typing import Any

from checker.config import CheckConfig
from checker.model.semantics import Step, World



class Verdict(StrEnum):
    """The verdict on one property; members equal their text (as JSON shows them)."""

    HOLDS = "HOLDS"  # no violation within the stated bound (exhaustive where it says so)
    PROVED = "PROVED"  # for any depth and data values, with a re-checked certificate
    VIOLATED = "VIOLATED"  # a counterexample (or, for sometimes, no reachable witness)
    UNKNOWN = "UNKNOWN"  # undecided: a limit was reached or the solver said unknown
    EXPECTED_FAIL = "EXPECTED-FAIL"  # a property marked expected-to-fail was violated, as documented


class Engine(StrEnum):
    """The engines (``--engine``); ``all`` runs explore, then bmc, then prove."""

    EXPLORE = "explore"
    SIMULATE = "simulate"
    BMC = "bmc"
    PROVE = "prove"
    ALL = "all"


HOLDS, PROVED, VIOLATED, UNKNOWN, EXPECTED_FAIL = (
    Verdict.HOLDS, Verdict.PROVED, Verdict.VIOLATED, Verdict.UNKNOWN, Verdict.EXPECTED_FAIL)

EXIT_OK, EXIT_VIOLATED, EXIT_USAGE, EXIT_UNKNOWN = 0, 1, 2, 3
# a run stopped by a signal exits as a shell reports a process killed by it: 128 + signal number
EXIT_BY_SIGNAL = {"SIGINT": 130, "SIGTERM": 143}


@dataclass(frozen=True)
class Trace:
    """A concrete run: the initial world and each step with the world after it."""

    initial: World
    steps: tuple[tuple[Step, World], ...]

    def __len__(self) -> int:
        return len(self.steps)


@dataclass
class PropertyResult:
    """The verdict on one property, the bound it holds within, and its counterexample."""

    name: str
    kind: str
    meaning: str
    verdict: Verdict
    bound: str
    expected_to_fail: bool = False
    trace: Trace | None = None
    detail: str = ""
    counterexample_path: str | None = None
    engine: Engine = Engine.EXPLORE
    certificate: str | None = None
    # The concrete scenario ``trace`` runs in when it differs from the check's config
    # (the z3 engines pick amounts, collateral etc. from a model). Additive hook.
    trace_config: CheckConfig | None = None


@dataclass
class Stats:
    """Exploration statistics, including handler coverage."""

    states: int = 0
    transitions: int = 0
    max_depth: int = 0
    seconds: float = 0.0
    limit_hit: str | None = None
    coverage: dict[str, int] = field(default_factory=dict)
    reduction: str | None = None  # e.g. "symmetry over user": states are orbit representatives
    unit: str = "states"  # what ``states`` counts ("control shapes" for prove)
    queue: int | None = None  # explore: states found but not yet expanded (progress display only)
    explorer: str | None = None  # explore: "compiled core", or "pure-Python loop (why)"

    @property
    def states_per_second(self) -> float:
        return self.states / self.seconds if self.seconds > 0 else float(self.states)

    @property
    def never_fired(self) -> list[str]:
        return [h for h, n in self.coverage.items() if n == 0]

    def to_json(self) -> dict[str, Any]:
        return {
            "states": self.states,
            "transitions": self.transitions,
            "max_depth": self.max_depth,
            "seconds": round(self.seconds, 3),
            "states_per_second": round(self.states_per_second, 1),
            "limit_hit": self.limit_hit,
            "reduction": self.reduction,
            **({"explorer": self.explorer} if self.explorer is not None else {}),
            "coverage": dict(self.coverage),
            "never_fired": self.never_fired,
        }


@dataclass
class CheckResult:
    """A whole check: the spec, the configuration, the engine and the verdicts."""

    spec_name: str
    spec_source: str
    scenario: str
    config: CheckConfig
    engine: Engine
    results: list[PropertyResult]
    stats: Stats
    spec_statistics: dict[str, Any] = field(default_factory=dict)  # ``Spec.statistics`` of the check, if any
    # the signal that stopped the run ("SIGINT", "SIGTERM"): the results are what was
    # established before it (every undecided property UNKNOWN "interrupted")
    interrupted: str | None = None

    @property
    def exit_code(self) -> int:
        """0 all as expected, 1 a violation, 3 an UNKNOWN; 130 / 143 when a signal
        stopped the run (whatever it had found: the run did not finish)."""
        if self.interrupted is not None:
            return EXIT_BY_SIGNAL.get(self.interrupted, EXIT_UNKNOWN)
        if any(r.verdict == VIOLATED for r in self.results):
            return EXIT_VIOLATED
        if any(r.verdict == UNKNOWN for r in self.results):
            return EXIT_UNKNOWN
        return EXIT_OK

    def result(self, name: str) -> PropertyResult:
        for r in self.results:
            if r.name == name:
                return r
        raise KeyError(name)
