"""The API under a process manager: configured from JANEDOE_API_* variables, the state URL from a file, JSON logs."""

import json
import os
import subprocess

import httpx
from janedoe.service_store import StateStore
from server_process import CONSOLE_SCRIPT, ServerProcess, free_port


def _environment_only_server(tmp_path, **variables) -> ServerProcess:
    """A server given nothing on its command line but the host: everything else from the environment."""
    server = ServerProcess("unused", env={"JANEDOE_API_PORT": "0", **variables})
    server.port = free_port()
    server.env["JANEDOE_API_PORT"] = str(server.port)
    server.url = f"http://127.0.0.1:{server.port}"
    server.process = subprocess.Popen([CONSOLE_SCRIPT, "serve", "--host", "127.0.0.1"], env=server.env,
                                      stdout=subprocess.DEVNULL, stderr=subprocess.PIPE)
    return server.wait_ready()


def test_a_server_configured_only_by_environment_keeps_the_state_url_out_of_its_environment(tmp_path):
    state_url = f"sqlite:///{tmp_path}/state.db"
    StateStore.open(state_url).close()
    (tmp_path / "state-url").write_text(state_url + "\n")
    server = _environment_only_server(
        tmp_path, JANEDOE_API_STATE_FILE=str(tmp_path / "state-url"), JANEDOE_API_MAX_BODY_MB="0.001",
    )
    try:
        assert httpx.get(f"{server.url}/v1/health").json() == {"status": "ok"}
        # The body limit came from the environment: 1 KiB.
        assert httpx.post(f"{server.url}/v1/mask", content=b"x" * 5000).status_code == 413
        with open(f"/proc/{server.process.pid}/environ", "rb") as handle:
            environment = handle.read()
        assert state_url.encode() not in environment and b"JANEDOE_API_STATE_FILE" in environment
    finally:
        server.stop()


def test_json_logs_carry_the_request_id_and_route_template_never_values(tmp_path):
    state_url = f"sqlite:///{tmp_path}/state.db"
    StateStore.open(state_url).close()
    state = StateStore.open(state_url)
    key, _ = state.keys.create(role="analyst", name="ana", admin=False)
    state.close()
    server = ServerProcess(state_url, extra=["--log-format", "json", "--log-level", "info"]).start()
    try:
        headers = {"Authorization": f"Bearer {key}"}
        given = httpx.get(f"{server.url}/v1/datasets/secret-dataset-name", headers={**headers, "X-Request-ID": "abc-1"},
                          params={"q": "alice@example.org"})
        made = httpx.get(f"{server.url}/v1/whoami", headers={**headers, "X-Request-ID": "bad id <script>"})
    finally:
        server.stop()
    assert given.status_code == 404 and given.headers["x-request-id"] == "abc-1"
    assert made.status_code == 200 and len(made.headers["x-request-id"]) == 16
    log = server.process.stderr.read().decode()
    lines = [json.loads(line) for line in log.splitlines() if line.startswith("{")]
    by_id = {line["request_id"]: line for line in lines if line.get("message") == "request"}
    assert by_id["abc-1"]["route"] == "/v1/datasets/{dataset_id}" and by_id["abc-1"]["status"] == 404
    assert by_id["abc-1"]["analyst"] == "ana"
    assert by_id[made.headers["x-request-id"]]["route"] == "/v1/whoami"
    assert "alice@example.org" not in log and "secret-dataset-name" not in log and key not in log


def test_a_bad_environment_value_is_one_line_naming_the_variable(tmp_path):
    environment = {**os.environ, "JANEDOE_API_STATE": f"sqlite:///{tmp_path}/s.db", "JANEDOE_API_TIMEOUT": "soon"}
    result = subprocess.run([CONSOLE_SCRIPT, "serve"], env=environment, capture_output=True, text=True, timeout=60)
    assert result.returncode == 2 and "JANEDOE_API_TIMEOUT" in result.stderr
    assert len(result.stderr.strip().splitlines()) == 1


def test_a_missing_state_file_is_one_line_naming_it(tmp_path):
    environment = {**os.environ, "JANEDOE_API_STATE_FILE": str(tmp_path / "nope")}
    result = subprocess.run([CONSOLE_SCRIPT, "serve"], env=environment, capture_output=True, text=True, timeout=60)
    assert result.returncode == 2 and str(tmp_path / "nope") in result.stderr
    assert len(result.stderr.strip().splitlines()) == 1
