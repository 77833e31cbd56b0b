"""Start-up of the API, held to module counts (not seconds, which depend on the machine's load), a little above what
it imports today: `janedoe-api`'s own commands import no web framework, and a server answers /v1/health having
imported no pandas (nor tried to: the console script's guard would hide an attempt)."""

import json
import subprocess
import sys
from pathlib import Path

# A fresh interpreter does what `janedoe-api serve` does before its first answer: the guard, the state, the app (the
# modules are counted once the app is made), then one request to /v1/health.
APP_PROBE = """
import json, os, sys
before = set(sys.modules)
import importlib.abc
from janedoe.tabular import keep_pandas_out
keep_pandas_out()
tried = set()
class Tried(importlib.abc.MetaPathFinder):
    def find_spec(self, name, path=None, target=None):
        if name.split(".")[0] == "pandas":
            tried.add(name)
        return None
sys.meta_path.insert(0, Tried())
os.environ["JANEDOE_API_STATE"] = sys.argv[1]
from janedoe.api.factory import app_from_environment
app = app_from_environment()
modules = sorted(set(sys.modules) - before)  # counted before the test client's own imports
from starlette.testclient import TestClient
with TestClient(app) as client:
    status = client.get("/v1/health").status_code
print(json.dumps({"status": status, "modules": modules, "tried": sorted(tried)}))
"""


def test_janedoe_api_commands_import_no_web_framework_nor_database_library():
    code = "import sys; before = set(sys.modules); import janedoe.api; print(sorted(set(sys.modules) - before))"
    done = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, timeout=120, check=True)
    modules = json.loads(done.stdout.replace("'", '"'))
    assert not [name for name in ("fastapi", "uvicorn", "sqlalchemy", "numpy", "pyarrow", "pandas") if name in modules]
    assert len(modules) <= 60  # 46 measured


def test_a_server_answers_health_without_pandas_within_its_module_budget(tmp_path: Path):
    done = subprocess.run([sys.executable, "-c", APP_PROBE, f"sqlite:///{tmp_path}/state.db"], cwd=tmp_path,
                          capture_output=True, text=True, timeout=300, check=True)
    result = json.loads(done.stdout.strip().splitlines()[-1])
    assert result["status"] == 200
    assert "pandas" not in result["modules"] and result["tried"] == []
    assert len(result["modules"]) <= 945  # 889 measured: FastAPI, SQLAlchemy, numpy, pyarrow and the components
