"""Refinement in lockstep (``--conform``): every step of an implementation must be a
step of the model.

A spec that has a model of its processes declares ``Spec.reference``: the parameters
under which ``build`` gives the model (TIM3: ``impl=python``). ``Conformance`` runs,
for each delivery to a process that is not itself the model (a Lua process), the
model's handler on the *abstracted* state and message (``observe`` and
``observe_message``, the documented abstraction) with the same fault choices, and
compares it with the abstracted outcome of the implementation: the same handler ran
(or none: Inbox), both raised or neither, the same messages were sent, the same next
state. Values are compared with their types (``1`` is not ``1.0``).

The first step that is not a model step is a violation of ``CONFORMANCE``, a property
of kind ``step``; its trace ends with that step. Within the explored scenario, a run
of the implementation with no divergence is a run of the model (abstracted): the
model's verdicts, ``PROVED`` ones included, carry over to the implementation there,
and no further.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from dataclasses import replace
from typing import TYPE_CHECKING, Any

from checker.model.choices import Chooser, all_paths
from checker.errors import SpecError, UserError
from checker.model.process import FINDING_KINDS, Delivery, HandlerRaised, PythonProcess
from checker.model.spec import Property, PropertyKind, StepKind
from checker.model.values import Message
from checker.model.walk import Walk, record_fields

if TYPE_CHECKING:
    from checker.model.semantics import Semantics, Step

CONFORMANCE = Property(
    name="conforms-to-model",
    kind=PropertyKind.STEP,
    meaning="every step of the implementation is a step the model takes from the abstracted state "
            "(same handler, same sends, same next state)",
)


def find_property(spec: Any, name: str) -> Property | None:
    """The spec's property ``name``, or ``CONFORMANCE`` (which every spec with a model has)."""
    p: Property | None = spec.prop(name)
    if p is None and name == CONFORMANCE.name:
        return CONFORMANCE
    kind, at, where = name.partition("@")
    if p is None and at and kind in FINDING_KINDS:  # a finding from execution: kind@where
        return Property(name=name, kind=PropertyKind.FINDING, meaning=FINDING_KINDS[kind])
    return p


class _Typed(Walk):
    """``typed`` as a walk over the value (``checker.model.walk``)."""

    def leaf(self, value: Any, path: str) -> Any:
        if isinstance(value, bool):
            return ("bool", value)
        if isinstance(value, (int, float)):
            return (type(value).__name__, value)
        return value

    def message(self, m: Message, path: str) -> Any:
        return ("msg", m.src, m.dst, m.action, tuple((k, self.walk(v)) for k, v in m.tags))

    def mapping(self, m: Mapping[Any, Any], path: str) -> Any:
        return ("map", tuple((self.walk(k), self.walk(v)) for k, v in m.items()))

    def record(self, obj: Any, path: str) -> Any:
        return (type(obj).__name__, tuple((n, self.walk(getattr(obj, n))) for n in record_fields(obj)))


_TYPED = _Typed()


def typed(value: Any) -> Any:
    """``value`` with every number tagged by its type, for comparisons where ``1`` and
    ``1.0`` (or ``True`` and ``1``) must differ: a hashable tree of tuples."""
    return _TYPED.walk(value)


class Conformance:
    """The model of ``sem``'s system and the lockstep comparison (module docstring)."""

    def __init__(self, sem: Semantics) -> None:
        from checker.model.semantics import Semantics

        spec = sem.spec
        if spec.reference is None:
            raise SpecError(f"{spec.source}: --conform needs the spec to declare its model (Spec.reference)")
        params = spec.reference(sem.config.params)
        self.model = Semantics(spec, replace(sem.config, params=params, conform=False))
        self.sem = sem
        for pid in sem.pids:
            if pid not in self.model.index:
                raise SpecError(f"{spec.source}: process {pid} has no counterpart in the model")

    def check(self, idx: int, step: Step, before: Any, after: Any, sends: Sequence[Message],
              faults_left: int) -> str | None:
        """Why ``step`` (process ``idx`` from ``before`` to ``after``, sending ``sends``,
        with ``faults_left`` fault choices left) is not a step of the model; ``None``
        when it is one."""
        sem = self.sem
        impl = sem.impls[idx]
        if isinstance(impl, PythonProcess) or step.msg is None:
            return None  # the model's own processes conform by definition
        pid = sem.pids[idx]
        try:
            b = impl.observe(before)
            a = impl.observe(after)
            m = sem.observe_message(step.msg)
            out = tuple(sorted((sem.observe_message(x) for x in sends), key=_order))
        except UserError as e:  # the abstraction has no model value for the code's
            return f"{pid} after {step.msg.action}: {e}"
        mine = (step.kind, step.handler if step.kind != StepKind.UNHANDLED else None, typed(a), typed(out), step.choices)
        model = self.model.impls[self.model.index[pid]]
        paths = self._model_paths(pid, model, b, m, faults_left)
        if any(p == mine for p in paths):
            return None
        return self._explain(pid, step, mine, paths)

    def _model_paths(self, pid: str, model: Any, before: Any, msg: Message, faults_left: int) -> list[tuple[Any, ...]]:
        from checker.model.semantics import StepContext

        msem = self.model

        def one(ch: Chooser) -> tuple[Any, ...]:
            ctx = StepContext(msem, pid, ch, faults_left)
            try:
                d: Delivery = model.deliver(before, msg, ctx)
            except HandlerRaised as e:  # the model cannot read this message
                if not isinstance(e.cause, (KeyError, TypeError, AttributeError)):
                    raise
                return ("model-rejects", str(e.cause))
            choices = tuple(ctx.choices)
            if d.handler is None:
                return (StepKind.UNHANDLED, None, typed(before), (), choices)
            if d.error is not None:
                return (StepKind.ERROR, d.handler, typed(before), (), choices)
            return (StepKind.DELIVER, d.handler, typed(d.state), typed(tuple(sorted(ctx.sends, key=_order))), choices)

        return [r for _, r in all_paths(one)]

    def _explain(self, pid: str, step: Step, mine: tuple[Any, ...], paths: list[tuple[Any, ...]]) -> str:
        what = f"{step.msg.action if step.msg else '?'} from {step.msg.src if step.msg else '?'}"
        same = [p for p in paths if len(p) == 5 and p[4] == mine[4]] or paths
        p = same[0]
        if p[0] == "model-rejects":
            return f"{pid} on {what}: the model cannot take the message ({p[1]})"
        if (p[0], p[1]) != (mine[0], mine[1]):
            return f"{pid} on {what}: the code took {_kind(mine)}, the model {_kind(p)}"
        if p[4] != mine[4]:
            return f"{pid} on {what}: the code chose {list(mine[4])}, the model {list(p[4])}"
        if p[3] != mine[3]:
            return f"{pid} on {what}: the code sent {_untyped(mine[3])}, the model {_untyped(p[3])}"
        return f"{pid} on {what}: the code's {pid} holds {_untyped(mine[2])}, the model's {_untyped(p[2])}"


def _kind(p: tuple[Any, ...]) -> str:
    if p[0] == StepKind.UNHANDLED:
        return "no handler (Inbox)"
    if p[0] == StepKind.ERROR:
        return f"handler {p[1]} raising (rolled back)"
    return f"handler {p[1]}"


def _untyped(v: Any) -> str:
    """A typed value (``typed``) written back readably: ``1`` vs ``1.0`` stay apart."""
    if isinstance(v, tuple) and len(v) == 2 and v[0] in ("int", "float", "bool"):
        return repr(v[1]).lower() if v[0] == "bool" else repr(v[1])
    if isinstance(v, tuple) and v and v[0] == "msg":
        tags = ", ".join(f"{k}={_untyped(x)}" for k, x in v[4])
        return f"{v[3]}({tags}) to {v[2]}"
    if isinstance(v, tuple) and v and v[0] == "map":
        return "{" + ", ".join(f"{_untyped(k)}: {_untyped(x)}" for k, x in v[1]) + "}"
    if isinstance(v, tuple) and len(v) == 2 and isinstance(v[0], str) and isinstance(v[1], tuple) and all(
        isinstance(f, tuple) and len(f) == 2 and isinstance(f[0], str) for f in v[1]
    ):
        return f"{v[0]}(" + ", ".join(f"{n}={_untyped(x)}" for n, x in v[1]) + ")"
    if isinstance(v, tuple):
        return "[" + "; ".join(_untyped(x) for x in v) + "]"
    return repr(v)


def _order(m: Message) -> str:
    """A total order on messages whose tag values may mix types."""
    return repr(typed(m))
