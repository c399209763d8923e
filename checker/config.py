"""All settings of one check in one frozen value (``CheckConfig``)."""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass, field
from typing import Any

from checker.model.values import FrozenMap

NETWORKS = ("unordered", "fifo")


@dataclass(frozen=True)
class Limits:
    """Exploration limits; reaching any of them makes an unviolated verdict UNKNOWN."""

    max_depth: int | None = None
    max_states: int | None = None
    timeout: float | None = None
    stop_at_first_violation: bool = False
    max_memory_mb: int | None = None


@dataclass(frozen=True)
class CheckConfig:
    """Scenario parameters, network, faults and limits of one check.

    ``faults`` holds spec-level fault names and the engine faults ``loss``,
    ``handler-error`` and ``adversary``. ``max_faults`` bounds how many fault choices
    (including losses and handler errors) one run may take; ``adversary_messages``
    bounds how many messages the adversary may inject. ``symmetry`` explores one
    world per orbit of the spec's ``symmetric_kinds`` (sound; see checker/engines/symmetry.py).
    ``conform`` checks every step of an implementation against the spec's model
    (``checker/model/conformance.py``).
    """

    params: FrozenMap[str, Any] = field(default_factory=FrozenMap)
    network: str = "unordered"
    faults: frozenset[str] = frozenset()
    max_faults: int = 1
    adversary_messages: int = 1
    limits: Limits = Limits()
    properties: tuple[str, ...] | None = None
    symmetry: bool = True
    conform: bool = False

    def label(self, omit: Mapping[str, Any] | None = None) -> str:
        """A short file-name-safe label: ``v1-amounts1-collateral2-...-unlock-fail``.

        A ``version`` parameter comes first (bare); the others follow in name order.
        A parameter whose value equals its entry in ``omit`` (a default) is left out.
        """
        skip = omit or {}
        items = sorted(((k, v) for k, v in self.params.items() if k not in skip or skip[k] != v),
                       key=lambda kv: (kv[0] != "version", kv[0]))
        parts = [f"{k}{_flat(v)}" if k != "version" else str(v) for k, v in items]
        parts += sorted(self.faults)
        if self.network != "unordered":
            parts.append(self.network)
        if self.conform:
            parts.append("conform")
        return "-".join(parts).replace(" ", "")

    def to_json(self) -> dict[str, Any]:
        return {
            "params": {k: list(v) if isinstance(v, tuple) else v for k, v in self.params.items()},
            "network": self.network,
            "faults": sorted(self.faults),
            "max_faults": self.max_faults,
            "adversary_messages": self.adversary_messages,
            "limits": {
                "max_depth": self.limits.max_depth,
                "max_states": self.limits.max_states,
                "timeout": self.limits.timeout,
                "stop_at_first_violation": self.limits.stop_at_first_violation,
                "max_memory_mb": self.limits.max_memory_mb,
            },
            "properties": list(self.properties) if self.properties is not None else None,
            "symmetry": self.symmetry,
            **({"conform": True} if self.conform else {}),
        }


def _flat(v: Any) -> str:
    if isinstance(v, tuple):
        return "_".join(str(x) for x in v)
    return str(v)
