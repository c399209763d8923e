"""Local state of every TIM3 process: frozen, hashable values."""

from __future__ import annotations

from dataclasses import dataclass

from checker.model.values import FrozenMap

IntMap = FrozenMap[str, int]


@dataclass(frozen=True, slots=True)
class LockState:
    """Lock Manager: USDA collateral per user, free and locked."""

    free: IntMap
    locked: IntMap


@dataclass(frozen=True, slots=True)
class TokenState:
    """Token Manager: TIM3 balances, total supply, and the supply change applied per request."""

    balances: IntMap
    supply: int
    applied: IntMap


@dataclass(frozen=True, slots=True)
class PositionState:
    """State Manager: the TIM3 position it tracks per user."""

    positions: IntMap


@dataclass(frozen=True, slots=True)
class Pending:
    """An open request at the coordinator.

    ``stage`` is locking | minting | rollback | burning | unlocking; ``update_sent`` is
    True once the coordinator has sent the UpdatePosition for this request.
    """

    user: str
    op: str
    amount: int
    stage: str
    update_sent: bool = False


@dataclass(frozen=True, slots=True)
class CoordinatorState:
    """Coordinator: open requests by request id."""

    pending: FrozenMap[str, Pending]


@dataclass(frozen=True, slots=True)
class UserRequest:
    """What a user sent and what came back: ``status`` is open | success | error."""

    op: str
    amount: int
    status: str = "open"
    responses: int = 0


@dataclass(frozen=True, slots=True)
class UserState:
    """A user: how many of its operations it has sent, and their outcomes."""

    issued: int
    requests: FrozenMap[str, UserRequest]
