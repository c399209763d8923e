"""What an engine needs of a property: ``expectation(prop)``, the one place where a
property's kind is interpreted (as stateright's ``Expectation``).

Every kind is one of five forms (``Form``), and engines dispatch on the form only:

* ``INVARIANT``: ``check(view)`` holds in every reachable world (``quiescent_only``: in
  every quiescent one): kinds ``always`` and ``at-quiescence``;
* ``OBLIGATIONS``: every obligation that ``trigger`` opens on a step is closed by the
  ``discharge`` of a later step by the time the world is quiescent (the open ones are a
  ghost of the world, ``World.ghost``): kind ``response``;
* ``REACHABLE``: each required goal holds in some reachable world: kind ``sometimes``;
* ``CONFORMANCE``: every step of an implementation is a step of the model (judged on
  the steps an engine takes, ``checker.model.conformance``): kind ``step``;
* ``FINDING``: something wrong seen while executing the code (``checker.model.process.Finding``),
  one result per finding: kind ``finding``;
* ``PROGRESS``: no reachable cycle of states avoids every state where ``check(view)``
  holds (a non-progress cycle, judged on the explored graph by
  ``checker.engines.progress``): kind ``progress``.

A new kind is one rule, a function from a ``Property`` to its ``Expectation`` that
raises ``PropertyError`` when the property lacks what the kind needs: an entry in
``_RULES`` (and a member of ``checker.model.spec.PropertyKind``), or, without touching this
module, a rule given to ``kinds_extended`` for the duration of a ``with`` block. The
loader validates every declared property through its rule, so nothing else changes
(``tests/unit/test_expectation.py`` adds a kind ``never`` so and runs every engine on it).
"""

from __future__ import annotations

from collections.abc import Callable, Iterator, Mapping, Sequence
from contextlib import contextmanager
from contextvars import ContextVar
from dataclasses import dataclass, field
from enum import StrEnum
from types import MappingProxyType
from typing import Any

from checker.errors import SpecError
from checker.model.spec import Params, Property, PropertyKind, StepInfo, View


class Form(StrEnum):
    """How a property is judged (see the module docstring)."""

    INVARIANT = "invariant"
    OBLIGATIONS = "obligations"
    REACHABLE = "reachable"
    CONFORMANCE = "conformance"
    FINDING = "finding"
    PROGRESS = "progress"


class PropertyError(SpecError):
    """A property its kind cannot judge (an unknown kind, or a missing check, goal or
    trigger); the loader prefixes the spec file."""


Check = Callable[[View], Any]


@dataclass(frozen=True)
class StateCheck:
    """A property as a check on one state (what the z3 prover needs): ``check`` holds in
    every state, or with ``quiescent_only`` in every quiescent one."""

    name: str
    check: Check
    quiescent_only: bool = False


@dataclass(frozen=True)
class Expectation:
    """What an engine needs of one property (see the module docstring).

    ``check`` (``INVARIANT``) must hold, in every world or (``quiescent_only``) in every
    quiescent one; ``trigger``/``discharge`` (``OBLIGATIONS``) open and close obligations
    on each step; ``goals`` (``REACHABLE``) must each be witnessed, those named by
    ``required(params)`` when given; ``check`` (``PROGRESS``) tells the progress states.
    ``premise`` (``INVARIANT``, optional) says whether a state is one the property is
    about; ``check`` includes it (holds where it is false): it only feeds the verdict's
    count of the states the check was vacuous in.
    """

    name: str
    kind: str
    form: Form
    check: Check | None = None
    quiescent_only: bool = False
    trigger: Callable[[StepInfo], Sequence[Any]] | None = None
    discharge: Callable[[StepInfo], Sequence[Any]] | None = None
    goals: Mapping[str, Check] = field(default_factory=dict)
    required: Callable[[Params], Sequence[str]] | None = None
    premise: Check | None = None

    @property
    def at_worlds(self) -> bool:
        """Whether a single world can violate it (invariants and obligations)."""
        return self.form in (Form.INVARIANT, Form.OBLIGATIONS)

    @property
    def at_quiescence(self) -> bool:
        """Whether it is judged at quiescent worlds only."""
        return self.form is Form.OBLIGATIONS or (self.form is Form.INVARIANT and self.quiescent_only)

    def required_goals(self, params: Params) -> list[str]:
        """The goals that must be witnessed in the scenario ``params`` (in order)."""
        return list(self.required(params)) if self.required is not None else list(self.goals)

    def state_check(self) -> StateCheck | None:
        """The property as a check on one state (``None`` for the forms no single state
        decides): an invariant as it is; obligations as "not quiescent, or none open"
        (``view.obligations``), the form every engine checks them in."""
        if self.form is Form.INVARIANT:
            assert self.check is not None
            return StateCheck(self.name, self.check, self.quiescent_only)
        if self.form is Form.OBLIGATIONS:
            name = self.name

            def no_open_obligation_at_quiescence(v: View) -> bool:
                return not (v.quiescent and v.obligations(name))

            return StateCheck(name, no_open_obligation_at_quiescence)
        return None


Rule = Callable[[Property], Expectation]


def _invariant(p: Property, quiescent_only: bool) -> Expectation:
    if p.check is None:
        raise PropertyError(f"property {p.name!r} ({p.kind}) has no check; pass check=lambda w: ...")
    return Expectation(p.name, p.kind, Form.INVARIANT, check=p.check, quiescent_only=quiescent_only, premise=p.premise)


def _only_invariants_have_premises(rule: Rule) -> Rule:
    def checked(p: Property) -> Expectation:
        if p.premise is not None:
            raise PropertyError(f"property {p.name!r} ({p.kind}) has a premise; only always and at-quiescence "
                                "properties take premise=")
        return rule(p)

    return checked


def _progress(p: Property) -> Expectation:
    if p.check is None:
        raise PropertyError(f"progress property {p.name!r} has no check; pass check=lambda w: ... (the progress states)")
    return Expectation(p.name, p.kind, Form.PROGRESS, check=p.check)


def _response(p: Property) -> Expectation:
    if p.trigger is None or p.discharge is None:
        raise PropertyError(f"response property {p.name!r} needs both trigger= and discharge=")
    return Expectation(p.name, p.kind, Form.OBLIGATIONS, trigger=p.trigger, discharge=p.discharge)


def _sometimes(p: Property) -> Expectation:
    if not p.goals:
        raise PropertyError(f"sometimes property {p.name!r} has no goals; pass goals={{'name': check}}")
    return Expectation(p.name, p.kind, Form.REACHABLE, goals=p.goals, required=p.required)


# the rules of the built-in kinds; those a spec may declare come first
_RULES: Mapping[str, Rule] = MappingProxyType({
    PropertyKind.ALWAYS: lambda p: _invariant(p, False),
    PropertyKind.AT_QUIESCENCE: lambda p: _invariant(p, True),
    PropertyKind.RESPONSE: _only_invariants_have_premises(_response),
    PropertyKind.SOMETIMES: _only_invariants_have_premises(_sometimes),
    PropertyKind.PROGRESS: _only_invariants_have_premises(_progress),
    PropertyKind.STEP: lambda p: Expectation(p.name, p.kind, Form.CONFORMANCE),
    PropertyKind.FINDING: lambda p: Expectation(p.name, p.kind, Form.FINDING),
})
ENGINE_KINDS = frozenset({PropertyKind.STEP, PropertyKind.FINDING})  # made by engines, not declared

# kinds added for the duration of a ``with kinds_extended(...)`` block (context-local)
_extra: ContextVar[Mapping[str, Rule]] = ContextVar("tim3check_extra_kinds", default=MappingProxyType({}))


def declarable_kinds() -> tuple[str, ...]:
    """The kinds a spec may declare: the built-in ones, then any added ones."""
    return tuple(k for k in _RULES if k not in ENGINE_KINDS) + tuple(_extra.get())


@contextmanager
def kinds_extended(rules: Mapping[str, Rule]) -> Iterator[None]:
    """Within the block, properties may also have the kinds in ``rules`` (kind -> rule)."""
    clash = [k for k in rules if k in _RULES]
    if clash:
        raise ValueError(f"kind {clash[0]!r} is built in")
    token = _extra.set(MappingProxyType({**_extra.get(), **rules}))
    try:
        yield
    finally:
        _extra.reset(token)


def expectation(prop: Property) -> Expectation:
    """What an engine needs of ``prop``; ``PropertyError`` if its kind is unknown or it
    lacks what its kind needs."""
    rule = _RULES.get(prop.kind) or _extra.get().get(prop.kind)
    if rule is None:
        raise PropertyError(
            f"property {prop.name!r} has kind {prop.kind!r}; use one of {', '.join(declarable_kinds())}"
        )
    return rule(prop)


def state_check(prop: Property) -> StateCheck:
    """``prop`` as a check on one state (``Expectation.state_check``), for a property a
    single state decides; ``PropertyError`` otherwise."""
    check = expectation(prop).state_check()
    if check is None:
        raise PropertyError(f"property {prop.name!r} ({prop.kind}) is not decided by a single state")
    return check
