"""The README's promise, run for real: a third-party service (examples/reuse_service) built on janedoe's component
interfaces, started as its own process on 127.0.0.1 and spoken to over HTTP."""

import ast
import csv
import io
import json
import os
import re
import secrets
import shutil
import socket
import subprocess
import sys
import time
import urllib.error
import urllib.request
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parents[2]
EXAMPLE = ROOT / "examples" / "reuse_service"

pytestmark = pytest.mark.slow

BATCH = (
    "ticket_id,customer,email,age,plan,notes\n"
    "1,James Miller,james.miller@example.com,43,team,call James Miller back\n"
    "2,Olivia Brown,olivia.brown@example.com,24,pro,wrote from olivia.brown@example.com\n"
    "3,James Miller,james.miller@example.com,47,free,\n"
)


def _free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return sock.getsockname()[1]


def _call(base: str, path: str, *, data: bytes | None = None, headers: dict | None = None) -> tuple[int, bytes]:
    request = urllib.request.Request(base + path, data=data, headers=headers or {})
    try:
        with urllib.request.urlopen(request, timeout=60) as response:
            return response.status, response.read()
    except urllib.error.HTTPError as error:
        return error.code, error.read()


@pytest.fixture(scope="module")
def service(tmp_path_factory):
    work = tmp_path_factory.mktemp("reuse-service")
    shutil.copy(EXAMPLE / "tickets.csv", work / "tickets.csv")
    port = _free_port()
    env = {**os.environ, "TICKETS_SECRET": secrets.token_hex(32)}
    process = subprocess.Popen(
        [sys.executable, str(EXAMPLE / "service.py"), "--data", str(work / "tickets.csv"),
         "--ledger", str(work / "budgets.db"), "--port", str(port)],
        cwd=work, env=env, stdout=subprocess.PIPE, stderr=subprocess.STDOUT,
    )
    base = f"http://127.0.0.1:{port}"
    deadline = time.monotonic() + 120  # the machine running the suite may be loaded
    try:
        while True:
            if process.poll() is not None:
                pytest.fail(f"the service exited: {process.stdout.read().decode(errors='replace')[-3000:]}")
            try:
                if _call(base, "/openapi.json")[0] == 200:
                    break
            except OSError:
                pass
            if time.monotonic() > deadline:
                pytest.fail("the service did not answer within 120 s")
            time.sleep(0.2)
        yield base
    finally:
        process.terminate()
        process.wait(timeout=30)


def test_the_example_imports_only_component_interfaces():
    tree = ast.parse((EXAMPLE / "service.py").read_text())
    modules = [node.module for node in ast.walk(tree) if isinstance(node, ast.ImportFrom) and node.module]
    modules += [alias.name for node in ast.walk(tree) if isinstance(node, ast.Import) for alias in node.names]
    janedoe = [module for module in modules if module.split(".")[0] == "janedoe"]
    assert janedoe, "the example uses janedoe"
    bricks = {path.name for path in (ROOT / "components" / "janedoe").iterdir() if (path / "__init__.py").exists()}
    for module in janedoe:
        parts = module.split(".")
        assert len(parts) == 2 and parts[1] in bricks, f"{module}: import a component's interface, janedoe.<brick>"


def test_a_batch_comes_back_masked_by_the_policy(service):
    status, body = _call(service, "/v1/mask", data=BATCH.encode(), headers={"Content-Type": "text/csv"})
    assert status == 200, body
    text = body.decode()
    rows = list(csv.DictReader(io.StringIO(text)))
    assert [row["ticket_id"] for row in rows] == ["1", "2", "3"]
    assert [row["customer"] for row in rows] == ["J***", "O***", "J***"]
    assert [row["age"] for row in rows] == ["40-49", "20-29", "40-49"]
    assert all(re.fullmatch(r"[0-9a-f]{16}", row["email"]) for row in rows)
    assert rows[0]["email"] == rows[2]["email"] != rows[1]["email"]  # keyed hash: linkable, not reversible
    assert "[NAME]" in rows[0]["notes"] and "[EMAIL]" in rows[1]["notes"]
    for original in ("James", "Miller", "Olivia", "Brown", "example.com"):
        assert original not in text


def test_a_batch_with_a_column_the_policy_does_not_name_is_refused_in_one_line(service):
    batch = "ticket_id,customer,email,age,plan,notes,ssn\n1,Kenji Novak,kenji@example.com,43,team,,233-49-9927\n"
    status, body = _call(service, "/v1/mask", data=batch.encode(), headers={"Content-Type": "text/csv"})
    assert status == 400, body
    error = json.loads(body)
    assert "ssn" in error["error"] and "\n" not in error["error"] and "Traceback" not in body.decode()


def test_a_batch_over_the_size_cap_is_refused(service):
    batch = BATCH + "4,James Miller,james.miller@example.com,43,team,x\n" * 25_000  # about 1.3 MiB
    status, body = _call(service, "/v1/mask", data=batch.encode(), headers={"Content-Type": "text/csv"})
    assert status == 400 and "at most" in json.loads(body)["error"]


def test_dp_counts_are_charged_to_the_callers_budget_until_it_is_spent(service):
    truth = {"free": 0, "pro": 0, "team": 0}
    with open(EXAMPLE / "tickets.csv", newline="") as handle:
        for row in csv.DictReader(handle):
            truth[row["plan"]] += 1
    ana = {"X-Analyst": "ana"}
    status, body = _call(service, "/v1/count?by=plan&epsilon=0.4", headers=ana)
    assert status == 200, body
    answer = json.loads(body)
    groups = {group["key"]: group["value"] for group in answer["answer"]["groups"]}
    assert set(groups) == set(truth)
    # Laplace noise of scale 2.5 per group: 40 off in total has probability below 1e-6
    assert abs(sum(groups.values()) - sum(truth.values())) < 40
    assert answer["remaining_epsilon"] == pytest.approx(0.6)
    assert _call(service, "/v1/count?epsilon=0.4", headers=ana)[0] == 200
    status, body = _call(service, "/v1/count?epsilon=0.4", headers=ana)  # 0.2 left: refused before any noise
    assert status == 403 and json.loads(body)["code"] == "budget_exceeded"
    status, body = _call(service, "/v1/count?by=plan&epsilon=0.4", headers={"X-Analyst": "ben"})
    assert status == 200 and json.loads(body)["remaining_epsilon"] == pytest.approx(0.6)  # budgets are per analyst
