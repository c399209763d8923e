"""How a property is judged on one world: the single definition every engine shares.

* ``always``: violated where ``check(view)`` is false;
* ``at-quiescence``: violated where the world is quiescent (nothing in flight) and
  ``check(view)`` is false;
* ``response``: violated where the world is quiescent and the property still has open
  obligations (``world.ghost`` at its index in ``sem.response_props``);
* ``sometimes``: never "violated" at a world; ``goals_met`` says which of its required
  goals a world witnesses.

A property whose check raises ``AttributeError``/``KeyError``/``TypeError`` is a broken
spec: ``SpecError`` naming the spec file and the property.
"""

from __future__ import annotations

from typing import Any

from checker.errors import InternalError, SpecError
from checker.semantics import Semantics, View, World
from checker.spec import Property


def check_holds(sem: Semantics, prop: Property, view: View) -> bool:
    """``prop.check(view)`` as a bool; a check that crashes is a ``SpecError``."""
    if prop.check is None:
        raise SpecError(f"{sem.spec.source}: property {prop.name!r} ({prop.kind}) has no check function")
    try:
        return bool(prop.check(view))
    except (AttributeError, KeyError, TypeError) as e:
        raise SpecError(f"{sem.spec.source}: property {prop.name!r} failed to evaluate: {e}") from e


def response_index(sem: Semantics, prop: Property) -> int:
    """Index of a response property's obligations in ``World.ghost``."""
    for i, p in enumerate(sem.response_props):
        if p.name == prop.name:
            return i
    raise InternalError(
        f"response property {prop.name!r} is not tracked by this Semantics (not selected in config.properties)"
    )


def open_obligations(sem: Semantics, prop: Property, world: World) -> tuple[Any, ...]:
    """The open obligations of a response property in ``world`` (sorted keys)."""
    return tuple(world.ghost[response_index(sem, prop)])


def violated_at(sem: Semantics, prop: Property, world: World, view: View | None = None) -> bool:
    """True iff ``prop`` is violated in ``world`` (see the module docstring).

    Pass ``view`` to reuse one ``View`` for several properties of the same world.
    ``sometimes`` properties are never violated at a single world: returns False.
    """
    quiet = not world.net
    if prop.kind == "always":
        return not check_holds(sem, prop, view if view is not None else sem.view(world))
    if prop.kind == "at-quiescence":
        return quiet and not check_holds(sem, prop, view if view is not None else sem.view(world))
    if prop.kind == "response":
        return quiet and bool(world.ghost[response_index(sem, prop)])
    if prop.kind == "sometimes":
        return False
    raise InternalError(f"property {prop.name!r} has unknown kind {prop.kind!r}")


def required_goals(sem: Semantics, prop: Property) -> list[str]:
    """The goals of a ``sometimes`` property that must be witnessed in this scenario."""
    if prop.required is not None:
        return list(prop.required(sem.config.params))
    return list(prop.goals)


def goal_met(sem: Semantics, prop: Property, goal: str, view: View) -> bool:
    """Whether the world seen through ``view`` witnesses ``goal`` of a ``sometimes`` property."""
    fn = prop.goals.get(goal)
    if fn is None:
        raise SpecError(f"{sem.spec.source}: property {prop.name!r} requires unknown goal {goal!r}")
    try:
        return bool(fn(view))
    except (AttributeError, KeyError, TypeError) as e:
        raise SpecError(f"{sem.spec.source}: goal {goal!r} of property {prop.name!r} failed to evaluate: {e}") from e


def goals_met(sem: Semantics, prop: Property, world: World, view: View | None = None) -> list[str]:
    """The required goals of a ``sometimes`` property that ``world`` witnesses, in order."""
    v = view if view is not None else sem.view(world)
    return [g for g in required_goals(sem, prop) if goal_met(sem, prop, g, v)]
