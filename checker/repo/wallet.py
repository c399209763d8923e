"""The actors of a manifest system that are not Lua processes: wallets, sinks, the adversary.

Each is a ``checker.model.process.ProcessImpl`` (the process seam), so the engines run them
as they run any process:

* ``WalletProcess`` — a user: up to ``ops`` operations, each a choice among the
  manifest's message templates for it (``ctx.choose``), sent with the AO message id
  ``<wallet>#<n>`` (its ``{ref}``); with ``wait`` the next operation waits for the
  answer. Every message to it is recorded (Action and tags, ids left out) and the
  answers are matched to operations by the manifest's answer rule.
* ``SinkProcess`` — an id outside the system: it records what it receives.
* ``AdversaryProcess`` — a wallet that may send, up to its budget, any message of a
  given list (any Action found in a handler pattern, with tag values from domains).
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from typing import Any

from checker.model.process import Delivery, SeenAsIs
from checker.model.spec import Ctx, Initiative
from checker.model.values import FrozenMap, Message, make_message

# message fields a wallet does not record (unique per message: they would make every
# state distinct without telling properties anything)
UNRECORDED = frozenset({"Id", "X-Reference", "Reference", "Data"})


@dataclass(frozen=True, slots=True)
class OpenOperation:
    """An operation a wallet sent: its template name, its correlation value (the tag
    the answer rule correlates on, or the ref) and how many answers it got."""

    operation: str
    correlation: str
    answers: int = 0


@dataclass(frozen=True, slots=True)
class WalletState:
    """A wallet: operations sent, each by ref, and the messages it received."""

    sent: int
    operations: FrozenMap[str, OpenOperation]
    received: tuple[Message, ...]

    @property
    def unanswered(self) -> int:
        return sum(1 for o in self.operations.values() if o.answers == 0)

    @property
    def extra_answers(self) -> int:
        return sum(max(0, o.answers - 1) for o in self.operations.values())


@dataclass(frozen=True, slots=True)
class Template:
    """One concrete message a wallet may send (``{ref}`` still open in tags and data)."""

    label: str
    operation: str
    target: str
    tags: tuple[tuple[str, str], ...]
    data: str


def _message(src: str, target: str, tags: Sequence[tuple[str, str]], data: str, mid: str) -> Message:
    d: dict[str, Any] = dict(tags)
    action = str(d.pop("Action", ""))
    d["Id"] = mid
    if data:
        d["Data"] = data
    return make_message(src, target, action, d)


class WalletProcess(SeenAsIs):
    """A user wallet (see the module docstring)."""

    def __init__(self, wallet: str, templates: Sequence[Template], ops: int, wait: bool,
                 answer_actions: tuple[str, ...], correlate: str | None, interval_ms: int = 0) -> None:
        self.wallet = wallet
        self.templates = tuple(templates)
        self.ops = ops
        self.wait = wait
        self.answer_actions = frozenset(answer_actions)
        self.correlate = correlate
        self.interval_ms = interval_ms  # the n-th operation is stamped n * interval_ms
        self._initiative = Initiative("send-operation", self._send)

    kind = "wallet"
    label = "Wallet"
    symbolic = False

    def initial(self) -> WalletState:
        return WalletState(0, FrozenMap(), ())

    def handled_actions(self) -> frozenset[str]:
        return frozenset()

    def handler_names(self) -> tuple[str, ...]:
        return ("receive",)

    def initiatives(self) -> tuple[Initiative, ...]:
        return (self._initiative,) if self.templates else ()

    def _send(self, s: WalletState, ctx: Ctx) -> WalletState | None:
        if s.sent >= self.ops or (self.wait and s.unanswered > 0):
            return None
        label = ctx.choose("operation", tuple(t.label for t in self.templates))
        t = next(t for t in self.templates if t.label == label)
        ref = f"{self.wallet}#{s.sent}"
        # Reference: the sender's reference, which aos's msg.reply echoes as X-Reference
        tags = tuple((k, v.replace("{ref}", ref)) for k, v in t.tags) + (("Reference", ref),)
        if self.interval_ms:
            tags += (("@Timestamp", str(s.sent * self.interval_ms)),)
        data = t.data.replace("{ref}", ref)
        emit = getattr(ctx, "emit")
        emit(_message(self.wallet, t.target, tags, data, ref))
        corr = ref if self.correlate in (None, "X-Reference") else dict(tags).get(self.correlate, ref)
        return WalletState(s.sent + 1, s.operations.set(ref, OpenOperation(t.operation, corr)), s.received)

    def deliver(self, state: Any, msg: Message, ctx: Ctx) -> Delivery:
        s: WalletState = state
        ops = s.operations
        if not self.answer_actions or msg.action in self.answer_actions:
            ref = self._answered(s, msg)
            if ref is not None:
                o = ops[ref]
                ops = ops.set(ref, OpenOperation(o.operation, o.correlation, o.answers + 1))
        kept = make_message(msg.src, msg.dst, msg.action, {k: v for k, v in msg.tags if k not in UNRECORDED})
        received = tuple(sorted(s.received + (kept,), key=repr))
        return Delivery("receive", WalletState(s.sent, ops, received))

    def _answered(self, s: WalletState, msg: Message) -> str | None:
        """The operation ``msg`` answers, by the answer rule (None: it answers none)."""
        if self.correlate is None:
            for ref, o in s.operations.items():
                if o.answers == 0:
                    return str(ref)
            return None
        value = msg.get(self.correlate)
        if value is None:
            return None
        for ref, o in s.operations.items():
            if o.correlation == str(value):
                return str(ref)
        return None


class SinkProcess(SeenAsIs):
    """An id outside the system: records (sender, Action) of what it receives."""

    kind = "sink"
    label = "Sink (outside the system)"
    symbolic = False

    def initial(self) -> tuple[tuple[str, str], ...]:
        return ()

    def handled_actions(self) -> frozenset[str]:
        return frozenset()

    def handler_names(self) -> tuple[str, ...]:
        return ("record",)

    def initiatives(self) -> tuple[Initiative, ...]:
        return ()

    def deliver(self, state: Any, msg: Message, ctx: Ctx) -> Delivery:
        return Delivery("record", tuple(sorted(state + ((msg.src, msg.action),))))


class AdversaryProcess(SeenAsIs):
    """A wallet that may send any of ``templates`` (``{ref}`` open), up to ``budget``."""

    kind = "adversary"
    label = "Adversary wallet"
    symbolic = False

    def __init__(self, wallet: str, templates: Sequence[Template], budget: int) -> None:
        self.wallet = wallet
        self.templates = tuple(templates)
        self.budget = budget
        self._initiative = Initiative("inject", self._inject)

    def initial(self) -> int:
        return self.budget

    def handled_actions(self) -> frozenset[str]:
        return frozenset()

    def handler_names(self) -> tuple[str, ...]:
        return ()

    def initiatives(self) -> tuple[Initiative, ...]:
        return (self._initiative,) if self.templates else ()

    def _inject(self, left: int, ctx: Ctx) -> int | None:
        if left <= 0:
            return None
        label = ctx.choose("inject", tuple(t.label for t in self.templates))
        t = next(t for t in self.templates if t.label == label)
        ref = f"{self.wallet}#{self.budget - left}"
        tags = tuple((k, v.replace("{ref}", ref)) for k, v in t.tags)
        getattr(ctx, "emit")(_message(self.wallet, t.target, tags, t.data.replace("{ref}", ref), ref))
        return left - 1

    def deliver(self, state: Any, msg: Message, ctx: Ctx) -> Delivery:
        return Delivery("receive", state)  # what it receives does not matter
