"""Differential test against an independent model checker: SPIN.

``shared/bench/spin/gen_tim3.py`` (found as ``bench/bench_spin.py`` finds it: beside an
ancestor of this checkout, so a git worktree finds it too) writes a Promela model of the
shipped spec whose reachable state space equals tim3check's with symmetry off (SPIN counts
one more transition: it counts the initial state). A state count that differs at any size
is a bug in one of the two. Marked slow; skipped where ``spin`` or a C compiler is missing
(``apt-get install -y spin``).
"""

from __future__ import annotations

import importlib.util
import shutil
import sys
from pathlib import Path
from types import ModuleType

import pytest

from spec.tim3 import SPEC
from checker.engines.explore import explore
from tests.tim3_helpers import config

ROOT = Path(__file__).resolve().parents[2]


def _bench_spin() -> ModuleType:
    """``bench/bench_spin.py`` as a module (registered first: its dataclass looks itself up there)."""
    module = importlib.util.spec_from_file_location("bench_spin", ROOT / "bench" / "bench_spin.py")
    assert module is not None and module.loader is not None
    bench = sys.modules.setdefault("bench_spin", importlib.util.module_from_spec(module))
    module.loader.exec_module(bench)
    return bench


BENCH = _bench_spin()
GEN: Path = BENCH.spin_dir(None) / "gen_tim3.py"
SIZES = [("v3", 1, 1), ("v3", 1, 2), ("v3", 2, 1), ("v3", 2, 2), ("v3", 3, 1)]

pytestmark = [
    pytest.mark.slow,
    pytest.mark.skipif(shutil.which("spin") is None or shutil.which("gcc") is None, reason="needs spin and gcc"),
    pytest.mark.skipif(not GEN.is_file(), reason=f"needs {GEN}"),
]


def spin_counts(version: str, users: int, ops: int, work: Path) -> tuple[int, int]:
    """pan's (states, transitions), built and run as ``bench/bench_spin.py`` does."""
    BENCH.build_pan(GEN, version, users, ops, work)
    run = BENCH.run_pan(users, ops, work)
    assert run.note == "errors 0", run.note
    return run.states, run.transitions


@pytest.mark.parametrize("version,users,ops", SIZES)
def test_state_and_transition_counts_equal_spins(version: str, users: int, ops: int, tmp_path: Path) -> None:
    states, transitions = spin_counts(version, users, ops, tmp_path)
    r = explore(SPEC, config(version=version, users=users, ops=ops, symmetry=False))
    assert r.stats.limit_hit is None
    assert r.stats.states == states
    assert r.stats.transitions + 1 == transitions  # SPIN counts the initial state as a transition
