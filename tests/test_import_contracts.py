"""The import contracts in pyproject.toml hold, and would catch a circle or a layer breach.

`lint-imports` runs on the real tree, and on a copy with one import added where the layering
forbids it: a contract that would let that through is no contract.
"""

from __future__ import annotations

import shutil
import subprocess
import sys
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parent.parent
LINT = Path(sys.executable).with_name("lint-imports")

pytestmark = pytest.mark.skipif(
    not LINT.exists(), reason="import-linter is not installed (pip install -e '.[dev]')"
)


def _lint(tree: Path) -> subprocess.CompletedProcess[str]:
    return subprocess.run(
        [str(LINT), "--config", str(tree / "pyproject.toml"), "--no-cache"],
        cwd=tree,
        capture_output=True,
        text=True,
        check=False,
        env={"PYTHONPATH": str(tree), "PATH": "/usr/bin:/bin"},
    )


def _copy(tmp_path: Path) -> Path:
    tree = tmp_path / "tree"
    tree.mkdir()
    shutil.copy(ROOT / "pyproject.toml", tree / "pyproject.toml")
    shutil.copytree(
        ROOT / "convoai_mcp", tree / "convoai_mcp", ignore=shutil.ignore_patterns("__pycache__")
    )
    return tree


def test_the_tree_keeps_every_contract() -> None:
    result = _lint(ROOT)
    assert result.returncode == 0, result.stdout + result.stderr
    assert "0 broken" in result.stdout


@pytest.mark.parametrize(
    ("module", "line", "broken"),
    [
        # a function-local import of the server from the wire models: a layer breach and a circle
        (
            "models.py",
            "def _late() -> None:\n    from convoai_mcp.server import app  # noqa\n",
            "Layers",
        ),
        # a type-only import of the client from the resource groups' seam: a circle
        (
            "_resources.py",
            "from typing import TYPE_CHECKING\nif TYPE_CHECKING:\n    import convoai_mcp.client\n",
            "No import circles",
        ),
        # the emulator reaching for the client's models
        ("sandbox/state.py", "import convoai_mcp.models  # noqa\n", "independent"),
    ],
)
def test_an_added_import_breaks_a_contract(
    tmp_path: Path, module: str, line: str, broken: str
) -> None:
    tree = _copy(tmp_path)
    target = tree / "convoai_mcp" / module
    target.write_text(target.read_text() + "\n\n" + line)
    result = _lint(tree)
    assert result.returncode != 0, result.stdout
    assert broken in result.stdout.split("Broken contracts", 1)[-1]
