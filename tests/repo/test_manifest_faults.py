"""A manifest's [faults]: the names the Lua asks ``Checker.fault`` about are declared, then
enabled with --fault; an undeclared name is a spec error, never a fault that silently never
happens."""

from __future__ import annotations

import shutil
from pathlib import Path

import pytest

from checker.errors import SpecError
from checker.interfaces.loader import config_from_options, load_spec
from checker.engines.explore import explore
from checker.manifest import ManifestError, load_manifest
from checker.result import HOLDS, VIOLATED

LUA = Path(__file__).resolve().parents[2] / "spec" / "tim3" / "lua"


def _repo(tmp_path: Path, coordinator: str = "coordinator_v3.lua", faults: bool = True) -> Path:
    """The shipped Lua TIM3 manifest in tmp_path, one wallet doing two operations."""
    for f in LUA.glob("*.lua"):
        shutil.copy(f, tmp_path / f.name)
    text = (LUA / "tim3check.toml").read_text()
    text = text.replace('files = ["coordinator_v3.lua"]', f'files = ["{coordinator}"]')
    if not faults:
        text = text[: text.index("[faults]")]
    path = tmp_path / "tim3check.toml"
    path.write_text(text)
    return path


def _verdicts(path: Path, faults: tuple[str, ...]) -> dict[str, str]:
    spec, _ = load_spec(str(path))
    config = config_from_options(spec, params={"wallets": 1, "ops": 2}, faults=faults)
    return {p.name: p.verdict for p in explore(spec, config).results}


def test_a_declared_fault_happens_when_enabled(tmp_path: Path) -> None:
    path = _repo(tmp_path, "coordinator_v2.lua")
    assert _verdicts(path, ())["positions-match-supply"] == HOLDS
    # v2's unlock-fail bug (as spec.tim3 --impl lua --coordinator v2 --fault unlock-fail finds it)
    assert _verdicts(path, ("unlock-fail",))["positions-match-supply"] == VIOLATED


def test_an_undeclared_fault_is_a_spec_error_naming_it(tmp_path: Path) -> None:
    path = _repo(tmp_path, faults=False)
    with pytest.raises(SpecError, match=r"ctx.fault\('lock-fail'\) names an undeclared fault.*\[faults\]"):
        _verdicts(path, ())


def test_limits_faults_may_name_a_declared_fault_and_misspellings_are_caught(tmp_path: Path) -> None:
    path = _repo(tmp_path)
    text = path.read_text()
    path.write_text(text.replace("[domains]", '[limits]\nfaults = ["unlock-fial"]\n\n[domains]', 1))
    with pytest.raises(ManifestError, match=r"unknown fault 'unlock-fial'.*did you mean 'unlock-fail'"):
        load_manifest(path)
    path.write_text(text.replace("[domains]", '[limits]\nfaults = ["unlock-fail"]\n\n[domains]', 1))
    assert load_manifest(path).limits.faults == ("unlock-fail",)


def test_an_engine_fault_cannot_be_redeclared(tmp_path: Path) -> None:
    path = _repo(tmp_path)
    path.write_text(path.read_text() + 'loss = "the network loses it"\n')
    with pytest.raises(ManifestError, match=r"faults.loss.*cannot name a process fault"):
        load_manifest(path)
