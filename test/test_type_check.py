"""The components type-check (mypy, configured in pyproject.toml) and say so to their users (PEP 561 py.typed)."""

import resource
import subprocess
import sys
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parents[1]
COMPONENTS = ROOT / "components" / "janedoe"


def component_bricks() -> list[str]:
    """Every component brick, found on disk: a brick added later is checked without editing this list."""
    return sorted(path.parent.name for path in COMPONENTS.glob("*/__init__.py"))


def test_every_component_ships_py_typed():
    missing = [brick for brick in component_bricks() if not (COMPONENTS / brick / "py.typed").is_file()]
    assert not missing, f"add an empty py.typed to: {', '.join(missing)}"


@pytest.mark.slow
def test_components_type_check(tmp_path):
    packages = [argument for brick in component_bricks() for argument in ("-p", f"janedoe.{brick}")]
    before = resource.getrusage(resource.RUSAGE_CHILDREN)
    # a fresh cache per run: the result never depends on an earlier run's state (about 40 s of CPU, cold)
    done = subprocess.run(
        [sys.executable, "-m", "mypy", "--cache-dir", str(tmp_path / "mypy-cache"), *packages],
        cwd=ROOT, capture_output=True, text=True, timeout=600,
    )
    after = resource.getrusage(resource.RUSAGE_CHILDREN)
    cpu = (after.ru_utime - before.ru_utime) + (after.ru_stime - before.ru_stime)
    assert done.returncode == 0, f"mypy found errors ({cpu:.0f} s CPU):\n{done.stdout[-20_000:]}{done.stderr[-2_000:]}"
    assert "Success: no issues found" in done.stdout
