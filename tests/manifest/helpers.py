"""Shared helpers: a small valid manifest (``BASE``), written with its Lua files into a folder."""

from __future__ import annotations

from pathlib import Path

import pytest

from checker.manifest import Manifest, ManifestError, Problem, load_manifest

FIXTURES = Path(__file__).parent / "fixtures"

BASE = """\
[system]
name = "mini"

[processes.coordinator]
files = ["src/coordinator.lua"]

[processes.token]
files = ["src/token.lua"]

[domains]
amount = [1, 2]

[wallets]
count = 2
ops = 1

[[wallets.operations]]
target = "coordinator"
tags = { Action = "MintTIM3", Quantity = "{amount}" }

[[boot]]
target = "coordinator"
tags = { Action = "Configure", Token = "{id:token}" }

[observables]
supply = { process = "token", lua = "TotalSupply" }
balances = { process = "token", lua = "Balances" }

[[properties]]
name = "capped"
kind = "always"
check = "supply <= 4"
"""


def write_repo(folder: Path, text: str) -> Path:
    """Write ``text`` as ``folder/tim3check.toml`` beside the two Lua files BASE names."""
    (folder / "src").mkdir(parents=True, exist_ok=True)
    (folder / "src" / "coordinator.lua").write_text('Handlers.add("MintTIM3", "MintTIM3", function(msg) end)\n')
    (folder / "src" / "token.lua").write_text("TotalSupply = 0\nBalances = {}\n")
    path = folder / "tim3check.toml"
    path.write_text(text)
    return path


def load_text(folder: Path, text: str) -> Manifest:
    return load_manifest(write_repo(folder, text))


def problems_of(folder: Path, text: str) -> tuple[Problem, ...]:
    """The problems ``load_manifest`` reports for ``text`` (fails the test if it loads)."""
    with pytest.raises(ManifestError) as info:
        load_text(folder, text)
    return info.value.problems


def edit(old: str, new: str, text: str = BASE) -> str:
    """``text`` with ``old`` replaced once by ``new`` (``old`` empty: ``new`` appended)."""
    if not old:
        return text + "\n" + new + "\n"
    assert old in text, f"not in the base manifest: {old!r}"
    return text.replace(old, new, 1)
