"""Schemathesis (its CLI, against a live server's /openapi.json): no 5xx, responses and status codes per the spec.

The fuzzer holds an admin key and may revoke keys or delete datasets, so it gets a server and state of its own.
"""

import os
import subprocess
import sys

import httpx
from customers_data import POLICY, customers, write_customers_csv
from janedoe.service_store import StateStore
from server_process import ServerProcess

SCHEMATHESIS = os.path.join(os.path.dirname(sys.executable), "schemathesis")


def test_fuzzing_the_openapi_spec_finds_no_server_errors(tmp_path):
    state_url = f"sqlite:///{tmp_path}/state.db"
    state = StateStore.open(state_url)
    admin, _ = state.keys.create(role="owner", name="fuzzer", admin=True)
    state.close()
    server = ServerProcess(state_url).start()
    try:
        path = tmp_path / "customers.csv"
        write_customers_csv(path, customers(rows=50))
        response = httpx.post(f"{server.url}/v1/datasets", headers={"X-API-Key": admin}, timeout=60,
                              files={"file": ("customers.csv", path.read_bytes()),
                                     "policy": ("policy.yaml", POLICY.encode())})
        assert response.status_code == 201
        done = subprocess.run(
            [SCHEMATHESIS, "run", f"{server.url}/openapi.json", "-H", f"Authorization: Bearer {admin}",
             "--checks", "not_a_server_error,response_schema_conformance,status_code_conformance",
             "--max-examples", "10", "--generation-deterministic", "--phases", "examples,fuzzing",
             "--request-timeout", "60", "--suppress-health-check", "all", "--workers", "2"],
            capture_output=True, text=True, timeout=300, cwd=tmp_path,
        )
    finally:
        server.stop()
    assert done.returncode == 0, done.stdout[-6000:] + done.stderr[-2000:]
