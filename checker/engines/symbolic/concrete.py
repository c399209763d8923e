"""Turning a satisfying z3 model of a symbolic path into an ordinary concrete trace.

The model fixes every symbolic parameter and every fresh value. The values become the
concrete scenario (symbolic parameters take their model values; the ``ints`` parameter
feeding a numeric domain becomes the distinct values used), and the concrete
``Semantics`` is re-run along the same step keys. A step that cannot be matched is a
bug in the symbolic engine and raises ``InternalError``: a counterexample that does not
replay is never reported.
"""

from __future__ import annotations

from typing import Any

import z3

from checker.config import CheckConfig
from checker.errors import InternalError
from checker.model.property_eval import violated_at
from checker.result import Trace
from checker.model.semantics import Semantics, Step, World
from checker.model.spec import Property, Spec, StepKind
from checker.engines.symbolic.semantics import SymSemantics
from checker.engines.symbolic.translate import concretize, model_int
from checker.engines.symbolic.values import SymInt


def concrete_config(ss: SymSemantics, steps: list[Step], model: z3.ModelRef) -> CheckConfig:
    """The check's config with symbolic parameters and used data values made concrete."""
    spec = ss.spec
    params = ss.config.params
    for name, x in ss.param_vars.items():
        params = params.set(name, model_int(model, x))
    used: dict[str, set[int]] = {}
    for step in steps:
        for label, v in step.choices:
            if isinstance(v, SymInt):
                used.setdefault(_domain_of(ss, step, label), set()).add(model_int(model, v.e))
        if step.kind == StepKind.INJECT:
            for m in step.sends:
                for tag, v in m.tags:
                    if isinstance(v, SymInt):
                        used.setdefault(_tag_domain(spec, m.action, tag), set()).add(model_int(model, v.e))
    if used:
        params = _fit_domains(spec, params, used)
    return CheckConfig(
        params=spec.resolve(params),
        network=ss.config.network,
        faults=ss.config.faults,
        max_faults=ss.config.max_faults,
        adversary_messages=ss.config.adversary_messages,
        limits=ss.config.limits,
        properties=ss.config.properties,
    )


def _domain_of(ss: SymSemantics, step: Step, label: str) -> str:
    # choose_value(label, domain): the label names the choice, the domain is recorded
    # by SymSemantics when the value was created.
    return ss.choice_domains.get(label, label)


def _tag_domain(spec: Spec, action: str, tag: str) -> str:
    a = spec.action(action)
    if a is not None:
        for t, dom in a.tags:
            if t == tag:
                return dom
    raise InternalError(f"injected {action} has undeclared tag {tag}")


def _fit_domains(spec: Spec, params: Any, used: dict[str, set[int]]) -> Any:
    """Set an ``ints`` parameter to the used values so every domain contains them."""
    values = tuple(sorted({abs(v) for vs in used.values() for v in vs if v != 0}))
    for p in spec.params:
        if p.type != "ints" or not values:
            continue
        cand = params.set(p.name, values)
        doms = spec.domains(spec.resolve(cand))
        if all(v in doms.get(d, ()) for d, vs in used.items() for v in vs):
            return cand
    raise InternalError(f"no 'ints' parameter of {spec.name} makes its domains contain the model's values {used}")


def step_id(step: Step) -> tuple[Any, ...]:
    """What identifies a step here: its replay key *and* what it sends.

    ``Step.key()`` leaves out the sends, and an adversary injection's key is the same
    for every message it may inject (the message is its only send); matching on the key
    alone replays the first injection instead of the one the model chose.
    """
    return (*step.key(), step.sends)


def replay(spec: Spec, config: CheckConfig, keys: list[tuple[Any, ...]]) -> Trace:
    """Walk the concrete ``Semantics`` along ``keys`` (``step_id``s); raise if a step
    does not exist."""
    sem = Semantics(spec, config)
    w = sem.initial()
    init = w
    out: list[tuple[Step, World]] = []
    for i, key in enumerate(keys):
        for step, w2 in sem.successors(w):
            if step_id(step) == key:
                out.append((step, w2))
                w = w2
                break
        else:
            raise InternalError(f"BMC counterexample does not replay: step {i + 1} {key[:3]} has no concrete match")
    return Trace(init, tuple(out))


def concrete_trace(ss: SymSemantics, steps: list[Step], model: z3.ModelRef) -> tuple[Trace, CheckConfig]:
    """The concrete trace and scenario of a symbolic path under ``model``."""
    config = concrete_config(ss, steps, model)
    keys = [step_id(concretize(s, model)) for s in steps]
    return replay(ss.spec, config, keys), config


def violated_concretely(spec: Spec, config: CheckConfig, trace: Trace, prop: Property) -> bool:
    """Does the last world of ``trace`` violate ``prop`` in the concrete semantics (as
    every engine judges it, ``checker.model.property_eval``)?"""
    sem = Semantics(spec, config)
    return violated_at(sem, prop, trace.steps[-1][1] if trace.steps else trace.initial)
