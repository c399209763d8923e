"""Local states of the migration scenario (``spec.tim3.migration``): frozen, hashable.

Fields marked *ghost* are bookkeeping for the properties only: no handler's behaviour
depends on them, and the deployed processes need not hold them.
"""

from __future__ import annotations

from dataclasses import dataclass

from checker.model.values import FrozenMap

IntMap = FrozenMap[str, int]
# coordinator id -> "active" (may start requests) | "retired" (may finish the ones it started)
AuthMap = FrozenMap[str, str]


@dataclass(frozen=True, slots=True)
class Entry:
    """One supply change in the Token Manager's history: the request, the user, the
    signed change, and ``origin``, the coordinator that asked for it (its ``msg.From``,
    which AO records with every message)."""

    req: str
    user: str
    delta: int
    origin: str


@dataclass(frozen=True, slots=True)
class MLockState:
    """Lock Manager: free and locked USDA per user, the coordinators it accepts, and
    (ghost) the requests it refused because their coordinator was retired."""

    free: IntMap
    locked: IntMap
    auth: AuthMap
    refused: FrozenMap[str, str]


@dataclass(frozen=True, slots=True)
class MTokenState:
    """Token Manager: balances, supply, its history, the coordinators it accepts.

    The history is ``prior`` (the supply changes made through the old coordinator before
    the release, by request id) followed by ``log`` (those made during the scenario, in
    order). ``cutoff`` is the length of ``log`` when a cut-off was recorded (-1: none).
    ``refused`` (ghost) as for the Lock Manager.
    """

    balances: IntMap
    supply: int
    prior: FrozenMap[str, Entry]
    log: tuple[Entry, ...]
    auth: AuthMap
    cutoff: int
    refused: FrozenMap[str, str]

    def history(self) -> tuple[Entry, ...]:
        """Every entry: the prior ones (by request id), then the log in order."""
        return tuple(self.prior.values()) + self.log


@dataclass(frozen=True, slots=True)
class MPositionState:
    """State Manager: positions per user; ``stale`` once the operator flagged them as not
    current; ``backfilled`` once a backfill was applied. ``counted`` (ghost): how many
    times each supply change (by request id) is counted in the positions. ``auth``: the
    coordinators whose UpdatePosition it applies."""

    positions: IntMap
    stale: bool
    backfilled: bool
    counted: IntMap
    auth: AuthMap


@dataclass(frozen=True, slots=True)
class MUserRequest:
    """A request a user sent: to which coordinator (``target``), whether the user's
    frontend had been switched back (``after_rollback``), and what came back."""

    op: str
    amount: int
    target: str
    after_rollback: bool
    status: str = "open"
    responses: int = 0


@dataclass(frozen=True, slots=True)
class MUserState:
    """A user and its frontend: the coordinator the frontend points at (``pointer``) and
    the generation of that setting, how many requests it sent, and their outcomes."""

    pointer: str
    generation: int
    issued: int
    requests: FrozenMap[str, MUserRequest]


@dataclass(frozen=True, slots=True)
class OperatorState:
    """The release engineer running a plan (``spec.tim3.migration_operator``).

    ``waiting`` counts acknowledgements still expected; ``backfill`` is no | asked
    (history requested) | sent (Backfill sent to the State Manager).
    """

    switched: bool = False
    rolled_back: bool = False
    switched_back: bool = False
    waiting: int = 0
    retired: bool = False
    inspecting: bool = False
    drained: bool = False
    backfill: str = "no"
