"""Start-up budgets: each command's import graph is held to a number of modules (not seconds, which depend on the
machine's load), a little above what it imports today. A command that grows past its budget has started importing a
library at the top of a module that should import it inside the command that uses it."""

import json
import subprocess
import sys
from pathlib import Path

import pytest

DATA = Path(__file__).resolve().parents[4] / "data" / "demo"

# Runs the real entry point in a fresh interpreter; lists the modules imported after the interpreter's own start, and
# the attempts to import pandas, which the CLI's guard (keep_pandas_out) turns into failures that sys.modules hides.
# Only pyarrow may try, when a command builds an Arrow array from a Python list (it asks whether that is pandas).
PROBE = """
import json, sys
before = set(sys.modules)
import importlib.abc
arguments, out = json.loads(sys.argv[1]), sys.argv[2]
sys.argv = ["janedoe", *arguments]
from janedoe.tabular import keep_pandas_out
keep_pandas_out()
tried = set()
class Tried(importlib.abc.MetaPathFinder):
    def find_spec(self, name, path=None, target=None):
        if name.split(".")[0] == "pandas":
            tried.add(name)
        return None
sys.meta_path.insert(0, Tried())
from janedoe.cli import main
code = None
try:
    main()
except SystemExit as done:
    code = done.code
with open(out, "w", encoding="utf-8") as file:
    json.dump({"code": code, "modules": sorted(set(sys.modules) - before), "tried": sorted(tried)}, file)
"""

# Imports the bricks the CLI's commands use, in a fresh interpreter without the CLI's guard: none may import pandas.
BRICKS_PROBE = """
import sys
import janedoe.policy, janedoe.detection, janedoe.masking, janedoe.ledger, janedoe.dp_noise
from janedoe.tabular import read_schema, iter_batches, write_table_atomic
print(sorted(name for name in sys.modules if name.split(".")[0] == "pandas"))
"""

HEAVY = ("numpy", "pyarrow", "sqlalchemy", "pandas")


def probe(tmp_path: Path, *arguments: str) -> dict:
    out = tmp_path / "modules.json"
    subprocess.run(
        [sys.executable, "-c", PROBE, json.dumps(arguments), str(out)],
        cwd=tmp_path, capture_output=True, text=True, timeout=120, check=False,
    )
    result = json.loads(out.read_text(encoding="utf-8"))
    assert result["code"] in (0, None), arguments
    return result


def imported_modules(tmp_path: Path, *arguments: str) -> list[str]:
    """The modules the command imported; none of them pandas, nor any import of it tried before pyarrow's."""
    result = probe(tmp_path, *arguments)
    assert "pandas" not in result["modules"]
    if "pyarrow" not in result["modules"]:
        assert result["tried"] == [], arguments
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
    assert len(modules) <= 135  # 124 measured


def test_version_stays_small(tmp_path):
    assert len(imported_modules(tmp_path, "--version")) <= 170  # 159 measured (importlib.metadata)


def test_dp_budget_on_a_new_ledger_reads_no_table_library_nor_sqlalchemy(tmp_path):
    modules = imported_modules(tmp_path, "dp", "budget", "--ledger", str(tmp_path / "new.db"))
    assert not [name for name in HEAVY if name in modules]  # a SQLite ledger is read with the stdlib's sqlite3
    assert "rich" not in modules  # its tables alone cost 0.06-0.08 s of CPU: the budgets print as plain columns
    assert len(modules) <= 250  # 235 measured (405 with SQLAlchemy, 285 with rich's tables): typer and pydantic
    assert not (tmp_path / "new.db").exists()  # reading creates no ledger


def test_dp_budget_on_a_ledger_with_spends_reads_it_without_sqlalchemy(tmp_path):
    from janedoe.dp_noise import PrivacyCost
    from janedoe.ledger import Ledger

    with Ledger.open(tmp_path / "ledger.db") as ledger:
        ledger.set_budget("census", "ana", epsilon=1.0)
        ledger.spend("census", "ana", PrivacyCost(epsilon=0.25), query="count", mechanism="laplace")
    modules = imported_modules(tmp_path, "dp", "budget", "--ledger", str(tmp_path / "ledger.db"), "--json")
    assert not [name for name in HEAVY if name in modules]
    assert "rich.console" not in modules  # JSON is printed as it is


def test_policy_check_of_a_policy_alone_reads_no_table_library(tmp_path, small_input):
    policy, _ = small_input
    modules = imported_modules(tmp_path, "policy", "check", str(policy))
    assert not [name for name in HEAVY if name in modules]  # the policy's models only: no detection, no masking
    assert "rich.console" not in modules  # plain lines
    assert len(modules) <= 280  # 258 measured


def test_policy_check_on_a_small_file(tmp_path, small_input):
    policy, data = small_input
    modules = imported_modules(tmp_path, "policy", "check", str(policy), str(data))
    assert "sqlalchemy" not in modules and "pandas" not in modules
    assert "rich.console" not in modules  # plain lines
    assert len(modules) <= 480  # 458 measured (517 before): numpy, pyarrow, the policy and masking components


def test_the_bricks_the_cli_uses_import_no_pandas_even_without_the_guard():
    """pandas is only for the Spark engine's interop: no brick the CLI imports may import it (pyarrow would, for an
    Arrow array made from a Python list at import time, if pandas is installed: it is, in this workspace)."""
    done = subprocess.run([sys.executable, "-c", BRICKS_PROBE], capture_output=True, text=True, timeout=120,
                          check=True)
    assert done.stdout.strip() == "[]"


def test_job_and_review_help_import_no_heavy_library_nor_urllib(tmp_path):
    for command in ("job", "review"):
        modules = imported_modules(tmp_path, command, "status" if command == "job" else "list", "--help")
        assert not [name for name in (*HEAVY, "urllib.request", "janedoe.analysis_jobs") if name in modules]
