"""Start-up budgets: each command's import graph is held to a number of modules (not seconds, which depend on the
machine's load), a little above what it imports today. A command that grows past its budget has started importing a
library at the top of a module that should import it inside the command that uses it."""

import json
import subprocess
import sys
from pathlib import Path

import pytest

DATA = Path(__file__).resolve().parents[4] / "data" / "demo"

# Runs the real entry point in a fresh interpreter; lists the modules imported after the interpreter's own start.
PROBE = """
import json, sys
before = set(sys.modules)
arguments, out = json.loads(sys.argv[1]), sys.argv[2]
sys.argv = ["janedoe", *arguments]
from janedoe.cli import main
try:
    main()
except SystemExit as done:
    code = done.code
with open(out, "w", encoding="utf-8") as file:
    json.dump({"code": code, "modules": sorted(set(sys.modules) - before)}, file)
"""

HEAVY = ("numpy", "pyarrow", "sqlalchemy", "pandas")


def imported_modules(tmp_path: Path, *arguments: str) -> list[str]:
    out = tmp_path / "modules.json"
    subprocess.run(
        [sys.executable, "-c", PROBE, json.dumps(arguments), str(out)],
        cwd=tmp_path, capture_output=True, text=True, timeout=120, check=False,
    )
    result = json.loads(out.read_text(encoding="utf-8"))
    assert result["code"] in (0, None), arguments
    return result["modules"]


@pytest.fixture
def small_input(tmp_path: Path) -> tuple[Path, Path]:
    """The demo policy and the first 20 rows of the file it describes."""
    lines = (DATA / "customers.csv").read_text(encoding="utf-8").splitlines(keepends=True)[:21]
    (tmp_path / "customers.csv").write_text("".join(lines), encoding="utf-8")
    return DATA / "policy.yaml", tmp_path / "customers.csv"


def test_help_imports_no_heavy_library(tmp_path):
    modules = imported_modules(tmp_path, "--help")
    assert not [name for name in HEAVY if name in modules]
    assert len(modules) <= 130  # 119 measured


def test_version_stays_small(tmp_path):
    assert len(imported_modules(tmp_path, "--version")) <= 165  # 154 measured (importlib.metadata)


def test_dp_budget_on_a_new_ledger_reads_no_table_library(tmp_path):
    modules = imported_modules(tmp_path, "dp", "budget", "--ledger", str(tmp_path / "new.db"))
    assert "numpy" not in modules and "pyarrow" not in modules and "pandas" not in modules
    assert "rich.progress" not in modules
    assert len(modules) <= 430  # 405 measured: SQLAlchemy is most of it


def test_policy_check_on_a_small_file(tmp_path, small_input):
    policy, data = small_input
    modules = imported_modules(tmp_path, "policy", "check", str(policy), str(data))
    assert "sqlalchemy" not in modules and "pandas" not in modules
    assert "rich.progress" not in modules and "rich.table" not in modules  # other commands' rendering
    assert len(modules) <= 545  # 517 measured: the policy and masking components are most of it


def test_job_and_review_help_import_no_heavy_library_nor_urllib(tmp_path):
    for command in ("job", "review"):
        modules = imported_modules(tmp_path, command, "status" if command == "job" else "list", "--help")
        assert not [name for name in (*HEAVY, "urllib.request", "janedoe.analysis_jobs") if name in modules]
