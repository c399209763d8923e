"""The step kernel: AO's step relation, written once for every value domain.

Two engines interpret a spec: the concrete ``checker.model.semantics.Semantics`` (values,
compact world keys, memoised outcomes) and the symbolic
``checker.engines.symbolic.semantics.SymSemantics`` (z3 terms, path conditions). Both are
*frames* (``Frame``) of this kernel: a frame says how its global states hold processes,
messages and budgets; the kernel says everything else, once:

* ``expand``: which steps exist and in which order (the order every trace, shortest
  counterexample and BMC path depends on):

  1. each deliverable message, in network order: a message to the adversary is
     ignored (``UNHANDLED``); otherwise one step per execution path of its target's
     ``deliver`` (``delivered``), then ``HANDLER_ERROR`` (``with_handler_error``);
  2. ``LOSE`` of each droppable message (fault ``loss``, budget left);
  3. each initiative of each process, one step per path (``initiated``);
  4. ``INJECT`` of each adversary message (``adversary_templates``), budget left;

* ``delivered`` / ``initiated``: one execution path of a handler or initiative turned into
  a ``Path`` (Inbox, ``ctx.error``, an initiative not enabled or of the wrong type, a
  state change with its sends);
* ``obligation_changes`` / ``apply_obligations``: the ghost of response properties;
* ``adversary_templates``: the adversary's messages (tags of a symbolic domain left open);
* the unordered bag is ``checker.model.network.KeyedBag`` (ordered by the frame's key).

``Step`` (what a trace records) is defined here, since only the kernel decides steps.
"""

from __future__ import annotations

from collections.abc import Callable, Iterable, Iterator, Mapping, Sequence
from dataclasses import dataclass
from typing import Any, NamedTuple, Protocol, TypeVar

from checker.errors import HandlerError, InternalError, SpecError, UserError
from checker.model.process import Delivery, Finding, ProcessImpl, raised_text
from checker.model.spec import ActionDecl, Property, StepInfo, StepKind
from checker.model.values import Message

ADVERSARY = "adversary"

S = TypeVar("S")


@dataclass(frozen=True, slots=True)
class Step:
    """One atomic step (``kind``: see ``StepKind``). ``choices`` are the (label, value) picks taken inside it.
    ``where`` is the handler's source location and ``notes`` what its implementation
    reports besides (both for traces only: never part of ``key``)."""

    kind: StepKind
    pid: str
    handler: str | None
    msg: Message | None
    choices: tuple[tuple[str, Any], ...]
    sends: tuple[Message, ...]
    reason: str | None = None
    where: str | None = None
    notes: tuple[tuple[str, Any], ...] = ()

    def key(self) -> tuple[Any, ...]:
        """What identifies the step when a trace is replayed."""
        return (self.kind, self.pid, self.handler, self.msg, self.choices)


class Path(NamedTuple):
    """One execution path of a delivery or initiative: its ``step``, the new local
    ``state`` (``None``: the state is unchanged and nothing is sent), the fault budget
    left after it and what the implementation found on it."""

    step: Step
    state: Any
    faults_left: int
    findings: tuple[Finding, ...] = ()


class PathCtx(Protocol):
    """What the kernel reads of a ``Ctx`` after one path ran."""

    choices: list[tuple[str, Any]]
    sends: list[Message]
    faults_left: int


def ignored(msg: Message) -> Step:
    """The step of a message delivered to the adversary, which ignores what it receives."""
    return Step(StepKind.UNHANDLED, msg.dst, None, msg, (), ())


def lost(msg: Message) -> Step:
    """The step of a message in flight lost (fault ``loss``)."""
    return Step(StepKind.LOSE, msg.dst, None, msg, (), ())


def injected(msg: Message) -> Step:
    """The step of the adversary injecting ``msg``."""
    return Step(StepKind.INJECT, ADVERSARY, None, None, (), (msg,))


def delivered(pid: str, msg: Message, d: Delivery, ctx: PathCtx) -> Path:
    """One path of delivering ``msg`` to ``pid``: no handler matched (the Inbox: nothing
    changes), the handler called ``ctx.error`` (AO rolls back: nothing changes, nothing is
    sent), or the handler's new state and sends."""
    choices = tuple(ctx.choices)
    if d.handler is None:
        return Path(Step(StepKind.UNHANDLED, pid, None, msg, choices, (), None, d.where, d.notes), None, ctx.faults_left, d.findings)
    if d.error is not None:
        return Path(Step(StepKind.ERROR, pid, d.handler, msg, choices, (), d.error, d.where, d.notes), None, ctx.faults_left,
                    d.findings)
    step = Step(StepKind.DELIVER, pid, d.handler, msg, choices, tuple(ctx.sends), None, d.where, d.notes)
    return Path(step, d.state, ctx.faults_left, d.findings)


def with_handler_error(paths: Sequence[Path], enabled: bool, faults_left: int, pid: str, msg: Message) -> list[Path]:
    """``paths`` then, when a handler ran and fault ``handler-error`` has budget, the
    step where the delivery happens but its effects are discarded."""
    out = list(paths)
    ran = next((p.step.handler for p in paths if p.step.handler is not None), None)
    if ran is not None and enabled and faults_left > 0:
        out.append(Path(Step(StepKind.HANDLER_ERROR, pid, ran, msg, (), ()), None, faults_left - 1))
    return out


def initiated(source: str, pid: str, name: str, fn: Callable[[Any, Any], Any], before: Any, ctx: PathCtx) -> Path | None:
    """One path of initiative ``name`` of ``pid``: ``ctx.error`` (nothing changes),
    ``None`` (not enabled: no step), or the new state (of the old state's type) and sends."""
    try:
        after = fn(before, ctx)
    except HandlerError as e:
        return Path(Step(StepKind.ERROR, pid, name, None, tuple(ctx.choices), (), e.reason), None, ctx.faults_left)
    except (UserError, InternalError, MemoryError):
        raise
    except Exception as e:  # the spec contract: ctx.error, never an exception
        raise SpecError(raised_text(source, "initiative", name, pid, e, None)) from e
    if after is None:
        return None
    if type(after) is not type(before):
        raise SpecError(f"{source}: initiative {name!r} of {pid} returned a {type(after).__name__}, "
                        f"expected its state type {type(before).__name__}")
    return Path(Step(StepKind.INITIATIVE, pid, name, None, tuple(ctx.choices), tuple(ctx.sends)), after, ctx.faults_left)


# (property index, opened keys, closed keys) for each response property a step touches
GhostOps = tuple[tuple[int, tuple[Any, ...], tuple[Any, ...]], ...]
Ghost = tuple[tuple[Any, ...], ...]
Rule = tuple[Callable[[StepInfo], Iterable[Any]] | None, Callable[[StepInfo], Iterable[Any]] | None]


def obligation_changes(source: str, props: Sequence[Property], rules: Sequence[Rule], info: StepInfo,
                       strict: bool) -> GhostOps:
    """(property index, opened keys, closed keys) for each response property the step
    ``info`` touches. A step a property cannot read is a spec error when ``strict``;
    otherwise (an implementation's step) an obligation nothing discharges, so the
    property fails at quiescence (never a pass)."""
    out = []
    for i, (p, (trigger, discharge)) in enumerate(zip(props, rules)):
        try:
            opened = tuple(trigger(info)) if trigger else ()
            closed = tuple(discharge(info)) if discharge else ()
        except (AttributeError, KeyError, TypeError, UserError) as e:
            if strict:
                raise SpecError(f"{source}: response property {p.name!r} failed on a step: {e}") from e
            opened, closed = ((f"unreadable step of {info.pid} ({info.handler}): {e}",), ())
        if opened or closed:
            out.append((i, opened, closed))
    return tuple(out)


def apply_obligations(ghost: Ghost, changes: GhostOps, key: Callable[[Any], Any] | None = None) -> Ghost:
    """Close then open obligations; each ghost entry is a multiset of keys sorted by
    ``key`` (the frame's order; removing a key compares with ``==``, a branch point over
    symbolic data)."""
    out = list(ghost)
    for i, opened, closed in changes:
        keys = list(out[i])
        for k in closed:
            if k in keys:
                keys.remove(k)
        keys.extend(opened)
        out[i] = tuple(sorted(keys, key=key))
    return tuple(out)


class Template(NamedTuple):
    """Adversary messages to ``dst``: Action ``action`` with the tag values ``fixed``;
    each tag of ``open`` (tag, domain) takes any value of its domain (the frame decides:
    one message per value, or one symbolic value)."""

    dst: str
    action: str
    fixed: Mapping[str, Any]
    open: tuple[tuple[str, str], ...]


def adversary_templates(source: str, actions: Sequence[ActionDecl], targets: Sequence[tuple[str, ProcessImpl]],
                        domains: Mapping[str, Sequence[Any]], is_open: Callable[[str], bool]) -> list[Template]:
    """Every message the adversary may inject: any declared Action to any process that
    handles it, with every combination of the values of the tags whose domain is not
    ``is_open``, in declaration order (Action, target, then tag values)."""
    out: list[Template] = []
    for a in actions:
        dsts = [pid for pid, impl in targets if a.name in impl.handled_actions()]
        combos: list[dict[str, Any]] = [{}]
        open_tags: list[tuple[str, str]] = []
        for tag, dom in a.tags:
            if dom not in domains:
                raise SpecError(f"{source}: Action {a.name} tag {tag} uses unknown domain {dom!r}")
            if is_open(dom):
                open_tags.append((tag, dom))
                continue
            combos = [{**c, tag: v} for c in combos for v in domains[dom]]
        for dst in dsts:
            for c in combos:
                out.append(Template(dst, a.name, c, tuple(open_tags)))
    return out


class Frame(Protocol[S]):
    """How one engine holds a global state ``S`` (see the module docstring): the kernel
    asks it for the network's deliverable and droppable messages (``handle`` and the
    message, in the network's order), for the successors of each kind of step, and for
    the budgets."""

    @property
    def loss(self) -> bool:
        """Whether fault ``loss`` is on."""
        ...

    @property
    def initiators(self) -> tuple[int, ...]:
        """The processes with initiatives, in system order."""
        ...

    @property
    def injections(self) -> Sequence[Any]:
        """The adversary's messages, in ``adversary_templates`` order."""
        ...

    def budgets(self, st: S) -> tuple[int, int]:
        """(faults left, injections left)."""
        ...

    def deliverable(self, st: S) -> Iterable[tuple[Any, Any]]: ...

    def droppable(self, st: S) -> Iterable[tuple[Any, Any]]: ...

    def deliveries(self, st: S, handle: Any, m: Any) -> Iterable[tuple[Step, S]]:
        """The successors of delivering ``m`` (``ignored`` at the adversary, else the
        ``with_handler_error`` of the target's ``delivered`` paths)."""
        ...

    def lose(self, st: S, handle: Any, m: Any) -> tuple[Step, S]: ...

    def initiatives(self, st: S, idx: int) -> Iterable[tuple[Step, S]]: ...

    def inject(self, st: S, injection: Any) -> tuple[Step, S]: ...


def expand(frame: Frame[S], st: S) -> Iterator[tuple[Step, S]]:
    """Every ``(step, successor)`` one atomic step from ``st``, in the kernel's order
    (the module docstring)."""
    faults_left, inj = frame.budgets(st)
    deliveries = frame.deliveries
    for handle, m in frame.deliverable(st):
        yield from deliveries(st, handle, m)
    if frame.loss and faults_left > 0:
        lose = frame.lose
        for handle, m in frame.droppable(st):
            yield lose(st, handle, m)
    for idx in frame.initiators:
        yield from frame.initiatives(st, idx)
    if inj > 0:
        inject = frame.inject
        for injection in frame.injections:
            yield inject(st, injection)
