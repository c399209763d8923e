"""The concrete and the symbolic semantics, run on the same worlds, take the same steps.

Both are frames of one step kernel (``checker.model.step_kernel``); this test checks the
frames against each other, in the manner of CrossHair's symbolic-vs-concrete comparison.
For every shipped coordinator version and fault setting at small bounds, a lockstep
search pairs each reachable concrete world ``w`` with a symbolic state ``st`` and an
assignment ``σ`` of its symbols (the scenario's collateral and max supply, and every
value chosen so far) that concretises ``st`` to ``w``. At each pair the symbolic
successors are concretised under every extension of ``σ`` to the values the step
created (each value of its domain) that satisfies the successor's path condition; the
result must be the concrete successors: same steps (labels, choices, reasons), same
sends, same successor world, in the kernel's order of step kinds. (Only multiplicity
may differ: two messages in flight whose symbolic data are equal under ``σ`` are two
in the symbolic bag, which never decides data equality, and one concretely.)
"""

from __future__ import annotations

import itertools
from typing import Any

import pytest
import z3

from checker.config import CheckConfig
from checker.engines.symbolic.concrete import step_id
from checker.engines.symbolic.semantics import SymSemantics, SymState
from checker.engines.symbolic.translate import concretize
from checker.engines.symbolic.values import Oracle, SymInt
from checker.model.semantics import Semantics, Step, World
from checker.model.spec import StepKind
from spec.tim3 import SPEC
from tests.tim3_helpers import config

Assignment = tuple[tuple[str, int], ...]  # (z3 constant name, value), sorted


class Lockstep:
    """The paired search of the module docstring over one scenario."""

    def __init__(self, cfg: CheckConfig) -> None:
        self.sem = Semantics(SPEC, cfg)
        self.ss = SymSemantics(SPEC, cfg, Oracle())
        self.params = cfg.params
        self._models: dict[Assignment, z3.ModelRef] = {}
        self.steps = 0
        self.worlds = 0

    def model(self, sigma: Assignment) -> z3.ModelRef:
        """A z3 model giving each constant of ``sigma`` its value (and nothing else)."""
        m = self._models.get(sigma)
        if m is None:
            s = z3.Solver()
            s.add(*[z3.Int(name) == v for name, v in sigma])
            assert s.check() == z3.sat
            m = self._models[sigma] = s.model()
        return m

    def concrete_world(self, w: World, m: z3.ModelRef) -> World:
        """``w`` with its symbolic leaves concretised, networks and obligations in the
        concrete order (the symbolic one orders by structure)."""
        net = self.sem.net
        procs = tuple(concretize(p, m) for p in w.procs)
        msgs = [concretize(x, m) for x in net.messages(w.net)]
        ghost = tuple(tuple(sorted(concretize(k, m) for k in entry)) for entry in w.ghost)
        return World(procs, net.canonical(msgs), ghost, w.faults_left, w.injections_left)

    def created(self, step: Step) -> list[tuple[str, tuple[int, ...]]]:
        """The symbols ``step`` created and the concrete values each may take."""
        out: list[tuple[str, tuple[int, ...]]] = []
        doms = self.sem.domains
        for label, v in step.choices:
            if isinstance(v, SymInt):
                out.append((str(v.e), tuple(doms[self.ss.choice_domains[label]])))
        if step.kind is StepKind.INJECT:
            for msg in step.sends:
                decl = SPEC.action(msg.action)
                assert decl is not None
                for tag, v in msg.tags:
                    if isinstance(v, SymInt):
                        out.append((str(v.e), tuple(doms[dict(decl.tags)[tag]])))
        return out

    def symbolic_successors(self, st: SymState, sigma: Assignment) -> list[tuple[Any, World, SymState, Assignment]]:
        """Every concretised symbolic successor: (step id, world, symbolic state, assignment)."""
        out = []
        for step, st2 in self.ss.successors(st):
            new = self.created(step)
            for values in itertools.product(*(vs for _, vs in new)):
                sigma2 = tuple(sorted({**dict(sigma), **{name: v for (name, _), v in zip(new, values)}}.items()))
                m = self.model(sigma2)
                if not z3.is_true(m.eval(z3.And(*st2.pc), model_completion=True)):
                    continue  # this branch is not the concrete one under sigma2
                c = concretize(step, m)
                out.append(((*step_id(c), c.reason), self.concrete_world(st2.world, m), st2, sigma2))
        return out

    def run(self, max_worlds: int = 3_000) -> Lockstep:
        start = self.ss.initial()
        sigma = tuple(sorted((name, int(self.params[name])) for name in self.ss.param_vars))
        w0 = self.sem.initial()
        assert self.concrete_world(start.world, self.model(sigma)) == w0
        seen: dict[World, tuple[SymState, Assignment]] = {w0: (start, sigma)}
        frontier = [w0]
        while frontier:
            nxt: list[World] = []
            for w in frontier:
                st, sig = seen[w]
                conc = [((*step_id(s), s.reason), w2) for s, w2 in self.sem.successors(w)]
                sym = self.symbolic_successors(st, sig)
                # same steps, sends and successors; a step the symbolic bag takes twice
                # (two messages whose symbolic data are equal under sigma: the bag never
                # decides data equality) is one concrete step
                assert set(conc) == {(k, w2) for k, w2, _, _ in sym}, self.diff(w, conc, sym)
                assert len(set(conc)) == len(conc) <= len(sym)
                # the kernel's order (deliveries, losses, initiatives, injections) in both
                phases = _phases([k for k, _ in conc])
                once = dict.fromkeys((k, w2) for k, w2, _, _ in sym)
                assert phases == sorted(phases) == _phases([k for k, _ in once])
                self.steps += len(conc)
                for _, w2, st2, sig2 in sym:
                    if w2 not in seen:
                        seen[w2] = (st2, sig2)
                        nxt.append(w2)
            assert len(seen) <= max_worlds, "scenario too large for a lockstep test"
            frontier = nxt
        self.worlds = len(seen)
        return self

    @staticmethod
    def diff(w: World, conc: list[Any], sym: list[Any]) -> str:
        a, b = set(conc), {(k, w2) for k, w2, _, _ in sym}
        only_c = [k[:3] for k, _ in a - b]
        only_s = [k[:3] for k, _ in b - a]
        return f"at {w}: only concrete {only_c}; only symbolic {only_s}"


_PHASE = {StepKind.DELIVER: 0, StepKind.UNHANDLED: 0, StepKind.ERROR: 0, StepKind.HANDLER_ERROR: 0,
          StepKind.LOSE: 1, StepKind.INITIATIVE: 2, StepKind.INJECT: 3}


def _phases(keys: list[Any]) -> list[int]:
    """The kernel's phase of each step id in order (an initiative's error, without a
    message, is in the initiatives' phase)."""
    return [2 if k[0] is StepKind.ERROR and k[3] is None else _PHASE[k[0]] for k in keys]


VERSIONS = ("v1", "v2", "v3")
FAULTS = [(), *((f,) for f in SPEC.faults)]
BOUNDS = [(1, 1), (2, 1), (1, 2)]

# (concrete worlds, concrete steps) of each lockstep search: the scenario is the one
# the explorer counts (e.g. v3 1 × 2 ops: 297 states, v3 2 × 1 without symmetry: 225)
PINNED: dict[tuple[str, str, int, int], tuple[int, int]] = {
    ("v1", "none", 1, 1): (13, 12), ("v1", "lock-fail", 1, 1): (16, 15),
    ("v1", "mint-fail", 1, 1): (16, 15), ("v1", "unlock-fail", 1, 1): (13, 12),
    ("v2", "none", 1, 1): (15, 15), ("v2", "lock-fail", 1, 1): (18, 18),
    ("v2", "mint-fail", 1, 1): (18, 18), ("v2", "unlock-fail", 1, 1): (15, 15),
    ("v3", "none", 1, 1): (15, 15), ("v3", "lock-fail", 1, 1): (18, 18),
    ("v3", "mint-fail", 1, 1): (20, 20), ("v3", "unlock-fail", 1, 1): (15, 15),
    ("v1", "none", 2, 1): (169, 312), ("v1", "lock-fail", 2, 1): (247, 462),
    ("v1", "mint-fail", 2, 1): (247, 462), ("v1", "unlock-fail", 2, 1): (169, 312),
    ("v2", "none", 2, 1): (225, 450), ("v2", "lock-fail", 2, 1): (315, 630),
    ("v2", "mint-fail", 2, 1): (315, 630), ("v2", "unlock-fail", 2, 1): (225, 450),
    ("v3", "none", 2, 1): (225, 450), ("v3", "lock-fail", 2, 1): (315, 630),
    ("v3", "mint-fail", 2, 1): (375, 750), ("v3", "unlock-fail", 2, 1): (225, 450),
    ("v1", "none", 1, 2): (187, 320), ("v1", "lock-fail", 1, 2): (262, 461),
    ("v1", "mint-fail", 1, 2): (262, 461), ("v1", "unlock-fail", 1, 2): (205, 350),
    ("v2", "none", 1, 2): (277, 535), ("v2", "lock-fail", 1, 2): (364, 706),
    ("v2", "mint-fail", 1, 2): (364, 706), ("v2", "unlock-fail", 1, 2): (307, 595),
    ("v3", "none", 1, 2): (297, 595), ("v3", "lock-fail", 1, 2): (384, 766),
    ("v3", "mint-fail", 1, 2): (442, 880), ("v3", "unlock-fail", 1, 2): (397, 845),
}


def _cases() -> list[Any]:
    """Every version × fault setting × bound; the default run takes every fault setting at
    1 × 1 and the fault-free setting at every bound, the rest is marked slow."""
    out = []
    for version in VERSIONS:
        for faults in FAULTS:
            for users, ops in BOUNDS:
                slow = bool(faults) and (users, ops) != (1, 1)
                out.append(pytest.param(version, faults, users, ops, marks=[pytest.mark.slow] if slow else [],
                                        id=f"{version}-{'+'.join(faults) or 'none'}-{users}x{ops}"))
    return out


@pytest.mark.parametrize("version, faults, users, ops", _cases())
def test_concrete_and_symbolic_take_the_same_steps(version: str, faults: tuple[str, ...], users: int, ops: int) -> None:
    run = Lockstep(config(version=version, users=users, ops=ops, faults=faults)).run()
    assert (run.worlds, run.steps) == PINNED[(version, "+".join(faults) or "none", users, ops)]


# the kernel's own faults, the adversary's messages (symbolic tags concretised to every
# domain value), two amounts to choose from, and the FIFO network, at 1 user × 1 op
KERNEL_CASES: dict[tuple[str, str], tuple[int, int]] = {
    ("v1", "loss"): (21, 22), ("v1", "handler-error"): (21, 22), ("v1", "adversary"): (689, 1713),
    ("v1", "amounts-1-2"): (25, 24), ("v1", "fifo-loss"): (21, 22),
    ("v2", "loss"): (26, 30), ("v2", "handler-error"): (26, 30), ("v2", "adversary"): (875, 2192),
    ("v2", "amounts-1-2"): (29, 30), ("v2", "fifo-loss"): (26, 30),
    ("v3", "loss"): (26, 30), ("v3", "handler-error"): (26, 30), ("v3", "adversary"): (660, 1830),
    ("v3", "amounts-1-2"): (29, 30), ("v3", "fifo-loss"): (26, 30),
}
_SETTINGS: dict[str, dict[str, Any]] = {
    "loss": dict(faults=("loss",)), "handler-error": dict(faults=("handler-error",)),
    "adversary": dict(faults=("adversary",)), "amounts-1-2": dict(amounts=(1, 2)),
    "fifo-loss": dict(faults=("loss",), network="fifo"),
}


@pytest.mark.parametrize("version, setting", list(KERNEL_CASES), ids=lambda c: str(c))
def test_kernel_steps_agree_under_loss_handler_error_adversary_fifo(version: str, setting: str) -> None:
    run = Lockstep(config(version=version, users=1, ops=1, **_SETTINGS[setting])).run()
    assert (run.worlds, run.steps) == KERNEL_CASES[(version, setting)]
