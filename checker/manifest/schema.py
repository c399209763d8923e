"""The typed, frozen form of a system manifest (``tim3check.toml``), as ``load_manifest`` returns it.

Everything is resolved: paths are absolute, process, wallet and sink names are ids,
``{id:...}``/``{owner}``/``{wallet...}`` holes are filled. Only the holes of an operation's
own value domains stay open in ``Operation.tags``/``Operation.data``; every concrete
choice is listed in ``Operation.instances`` (one per wallet and combination of values).
Tags are ``(name, value)`` pairs in the order written; values are strings, as in AO.
The format itself is documented in ``docs/manifest.md``.
"""

from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path

from checker.manifest.expr import Expr
from checker.model.spec import PropertyKind

Tags = tuple[tuple[str, str], ...]

# aos behaviours the runtime can follow (``[system] aos``); "default" is the pinned one.
AOS_VARIANTS = ("default", "require-json", "normalized-tags")
NETWORKS = ("unordered", "fifo")
LIMIT_FAULTS = ("loss", "handler-error")


@dataclass(frozen=True, slots=True)
class SystemInfo:
    """``[system]``: a name, the aos variant, the owner wallet (spawns, owns and boots every process)."""

    name: str
    aos: str
    owner: str


@dataclass(frozen=True, slots=True)
class ProcessSpec:
    """One process: its manifest name, its id, its Lua files (loaded in order) and spawn tags."""

    name: str
    id: str
    files: tuple[Path, ...]
    tags: Tags


@dataclass(frozen=True, slots=True)
class BootMessage:
    """One boot message, concrete: sent by ``sender`` (an id) to ``target`` (a process name).

    ``wallet`` is the wallet id the entry was expanded for (``each_wallet = true``), else None.
    ``entry`` is the index of the ``[[boot]]`` entry it came from.
    """

    entry: int
    target: str
    target_id: str
    sender: str
    tags: Tags
    data: str
    wallet: str | None


@dataclass(frozen=True, slots=True)
class Domain:
    """A named value domain (``amount = [1, 2]``); the values as strings."""

    name: str
    values: tuple[str, ...]


@dataclass(frozen=True, slots=True)
class OperationInstance:
    """One concrete message a wallet may send: an operation with every hole filled but ``{ref}``.

    ``{ref}`` (a value unique to one send, for correlation by a tag) is filled by the
    engine when the wallet sends: ``message(ref)``.
    """

    operation: str
    wallet: str
    binding: tuple[tuple[str, str], ...]
    target_id: str
    tags: Tags
    data: str

    def message(self, ref: str) -> tuple[Tags, str]:
        """(tags, data) with ``{ref}`` replaced by ``ref``."""
        return tuple((k, v.replace("{ref}", ref)) for k, v in self.tags), self.data.replace("{ref}", ref)


@dataclass(frozen=True, slots=True)
class Operation:
    """A message template a wallet may send, with its value domains and answer Actions.

    ``tags``/``data`` keep the domain holes (``{amount}``) and ``{wallet}``; ``instances``
    lists every concrete message (per wallet, per combination of domain values).
    ``answers`` are the Actions that answer this operation (``wallets.answer`` by default).
    """

    name: str
    target: str
    target_id: str
    tags: Tags
    data: str
    domains: tuple[Domain, ...]
    answers: tuple[str, ...]
    instances: tuple[OperationInstance, ...]

    def for_wallet(self, wallet: str) -> tuple[OperationInstance, ...]:
        """The concrete messages ``wallet`` may send for this operation."""
        return tuple(i for i in self.instances if i.wallet == wallet)


@dataclass(frozen=True, slots=True)
class AnswerRule:
    """How a wallet recognises the answer to its operation.

    An answer is a message to the wallet whose Action is in ``actions`` (empty: any
    message) and that correlates: ``correlate`` is ``"X-Reference"`` (the answer's
    X-Reference equals the operation's Reference), another tag name (equal values in
    the operation and the answer) or None (the wallet's oldest unanswered operation).
    """

    actions: tuple[str, ...]
    correlate: str | None


@dataclass(frozen=True, slots=True)
class Wallets:
    """The users: wallet ids, operations per wallet, whether each waits for an answer."""

    ids: tuple[str, ...]
    ops: int
    wait: bool
    answer: AnswerRule
    operations: tuple[Operation, ...]


@dataclass(frozen=True, slots=True)
class Sink:
    """An id outside the system whose incoming messages are recorded, never an error."""

    name: str
    id: str


@dataclass(frozen=True, slots=True)
class Observable:
    """A Lua expression (or a block ending in ``return``) evaluated in one process's globals.

    ``chunk`` is the observable as one Lua expression, to evaluate as ``return <chunk>``:
    ``lua`` itself, or a block wrapped as ``(function() <lua> end)()``.
    """

    name: str
    process: str
    process_id: str
    lua: str
    chunk: str
    meaning: str


@dataclass(frozen=True, slots=True)
class Goal:
    """One goal of a ``sometimes`` property; ``required`` goals must be reachable."""

    name: str
    source: str
    expr: Expr
    required: bool


@dataclass(frozen=True, slots=True)
class PropertySpec:
    """A property over observables.

    * ``always``/``at-quiescence``: ``check`` must be true (in every / every quiescent state).
    * ``response``: at each step ``trigger`` opens and ``discharge`` closes an obligation
      keyed by the expression's value (false or 0: nothing); no obligation may be open
      at a quiescent state. Both may use ``delta(name)``.
    * ``sometimes``: every required goal must be reachable.
    ``template`` names the ready-made template the property was written with, if any;
    ``source`` is the expression text shown in reports.
    """

    name: str
    kind: PropertyKind
    meaning: str
    source: str
    check: Expr | None
    trigger: Expr | None
    discharge: Expr | None
    goals: tuple[Goal, ...]
    template: str | None
    expected_to_fail: bool


@dataclass(frozen=True, slots=True)
class TrustRule:
    """Who ``process`` should accept ``action`` from (``"*"``: every Action not listed).

    ``senders`` as written (``owner``, ``wallets``, ``anyone``, process/sink names, wallet
    ids); ``sender_ids`` resolved (``anyone`` leaves it empty and sets ``anyone``).
    """

    process: str
    action: str
    senders: tuple[str, ...]
    sender_ids: frozenset[str]
    anyone: bool

    def trusts(self, sender_id: str) -> bool:
        return self.anyone or sender_id in self.sender_ids


@dataclass(frozen=True, slots=True)
class Adversary:
    """A wallet that may send any Action (``actions``; None: every Action found in a handler
    pattern) to any process (``targets``; None: all), with tag values from ``tags``."""

    id: str
    budget: int
    actions: tuple[str, ...] | None
    targets: tuple[str, ...] | None
    tags: tuple[Domain, ...]


@dataclass(frozen=True, slots=True)
class TimeSpec:
    """``[time]``: how ``msg.Timestamp`` (and so ``os.time()``) advances, in ms. A wallet's
    n-th operation is stamped ``n * op_interval_ms``; a message a process sends is stamped
    its trigger's timestamp plus ``hop_ms``. Both 0: time never passes."""

    hop_ms: int = 1000
    op_interval_ms: int = 1000


@dataclass(frozen=True, slots=True)
class LimitsSpec:
    """``[limits]``: scenario defaults; None means the command line's or the engine's default."""

    max_depth: int | None
    max_states: int | None
    timeout: float | None
    max_memory_mb: int | None
    network: str
    faults: tuple[str, ...]
    max_faults: int | None


@dataclass(frozen=True, slots=True)
class Manifest:
    """A whole system manifest, loaded and checked. ``path`` is absolute; ``root`` its folder."""

    path: Path
    root: Path
    system: SystemInfo
    processes: tuple[ProcessSpec, ...]
    boot: tuple[BootMessage, ...]
    wallets: Wallets
    sinks: tuple[Sink, ...]
    domains: tuple[Domain, ...]
    observables: tuple[Observable, ...]
    properties: tuple[PropertySpec, ...]
    trust: tuple[TrustRule, ...]
    adversary: Adversary | None
    limits: LimitsSpec
    time: TimeSpec = TimeSpec()
    # ``[faults]``: the names process code may pass to ``Checker.fault(name)``, with their meaning
    faults: tuple[tuple[str, str], ...] = ()

    def process(self, name: str) -> ProcessSpec:
        """The process called ``name`` (KeyError if there is none)."""
        for p in self.processes:
            if p.name == name:
                return p
        raise KeyError(name)

    def id_of(self, name: str) -> str:
        """The id of a process or sink called ``name`` (KeyError if there is none)."""
        for p in self.processes:
            if p.name == name:
                return p.id
        for s in self.sinks:
            if s.name == name:
                return s.id
        raise KeyError(name)

    def trust_for(self, process: str, action: str) -> TrustRule | None:
        """The rule for ``action`` at ``process`` (the ``"*"`` rule if none names it), or None."""
        fallback = None
        for r in self.trust:
            if r.process == process:
                if r.action == action:
                    return r
                if r.action == "*":
                    fallback = r
        return fallback

    def observable(self, name: str) -> Observable:
        for o in self.observables:
            if o.name == name:
                return o
        raise KeyError(name)
