"""The documentation's examples run as written: every ``python`` block of docs/*.md and
README.md preceded by ``<!-- runnable -->`` runs, in order, in one namespace per file."""

from __future__ import annotations

import re
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parent.parent
BLOCK = re.compile(r"<!-- runnable -->\s*\n```python\n(.*?)```", re.S)
FILES = sorted([ROOT / "README.md", *(ROOT / "docs").glob("*.md")])


def runnable(path: Path) -> list[str]:
    return BLOCK.findall(path.read_text(encoding="utf-8"))


@pytest.mark.parametrize("path", [p for p in FILES if runnable(p)], ids=lambda p: p.name)
def test_runnable_blocks_run(path: Path) -> None:
    namespace: dict[str, object] = {"__name__": f"docs_{path.stem}"}
    for i, code in enumerate(runnable(path)):
        try:
            exec(compile(code, f"{path.name}[block {i + 1}]", "exec"), namespace)
        except Exception as e:  # the block and its error, not a bare traceback
            raise AssertionError(f"{path.name}, runnable block {i + 1} failed: {type(e).__name__}: {e}") from e


def test_the_guide_has_runnable_blocks() -> None:
    assert len(runnable(ROOT / "docs" / "writing-a-spec.md")) == 3


PYTEST_BLOCK = re.compile(r"<!-- runnable: pytest -->\s*\n```python\n(.*?)```", re.S)


def test_the_readmes_pytest_example_passes(tmp_path: Path) -> None:
    import subprocess
    import sys

    blocks = PYTEST_BLOCK.findall((ROOT / "README.md").read_text(encoding="utf-8"))
    assert blocks, "the README has no runnable pytest block"
    test_file = tmp_path / "test_readme_example.py"
    test_file.write_text("\n\n".join(blocks), encoding="utf-8")
    out = subprocess.run([sys.executable, "-m", "pytest", "-q", "-p", "no:cacheprovider", str(test_file)],
                         capture_output=True, text=True, cwd=tmp_path, check=False)
    assert out.returncode == 0, out.stdout + out.stderr
    assert f"{test_file.read_text().count('def test_')} passed" in out.stdout
