"""Imports point down: the model layer never imports the engines, the interfaces or the
implementations (ao, manifest, repo), not even inside a function."""

from __future__ import annotations

import ast
from pathlib import Path

MODEL = Path(__file__).resolve().parents[2] / "checker" / "model"
ABOVE = ("checker.engines", "checker.interfaces", "checker.ao", "checker.manifest", "checker.repo")


def test_the_model_imports_nothing_above_it() -> None:
    bad = []
    for path in sorted(MODEL.glob("*.py")):
        for node in ast.walk(ast.parse(path.read_text())):
            if isinstance(node, ast.Import):
                names = [a.name for a in node.names]
            elif isinstance(node, ast.ImportFrom):
                names = [node.module or ""]
            else:
                continue
            bad += [f"{path.name}:{node.lineno} {n}" for n in names if n.startswith(ABOVE)]
    assert bad == []
