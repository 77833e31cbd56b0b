"""Authentication and the admin key endpoints, through a real server."""

import os
import subprocess
import sys

import httpx
from janedoe.service_store import StateStore
from server_process import ServerProcess


def test_no_key_is_401_with_a_json_error(api):
    with api.client() as client:
        response = client.get("/v1/whoami")
    assert response.status_code == 401
    assert response.json()["code"] == "unauthenticated"
    assert response.headers["www-authenticate"] == "Bearer"


def test_a_wrong_key_is_401_and_a_right_key_says_who_it_is(api):
    with api.client() as client:
        wrong = client.get("/v1/whoami", headers={"Authorization": "Bearer jd_0000000000000000_" + "a" * 43})
        garbage = client.get("/v1/whoami", headers={"X-API-Key": "hello"})
        right = client.get("/v1/whoami", headers={"X-API-Key": api.keys["analyst"]})
    assert (wrong.status_code, garbage.status_code) == (401, 401)
    assert right.status_code == 200
    assert right.json() == {**right.json(), "name": "analyst-user", "role": "analyst", "admin": False}


def test_admin_endpoints_refuse_non_admin_keys_with_403(api):
    for label in ("owner", "support", "analyst", "intern"):
        with api.client(label) as client:
            for method, path in (("GET", "/v1/admin/keys"), ("POST", "/v1/admin/keys"), ("GET", "/v1/admin/audit"),
                                 ("DELETE", "/v1/admin/keys/0000000000000000")):
                response = client.request(method, path, json={"role": "x", "name": "y"})
                assert response.status_code == 403, (label, method, path)
                assert response.json()["code"] == "forbidden"


def test_admin_creates_lists_and_revokes_a_key(api):
    with api.client("admin") as admin:
        created = admin.post("/v1/admin/keys", json={"role": "support", "name": "carol"})
        assert created.status_code == 201
        new_key = created.json()["key"]
        assert admin.get("/v1/whoami", headers={"Authorization": f"Bearer {new_key}"}).json()["name"] == "carol"
        listed = admin.get("/v1/admin/keys").json()
        assert created.json()["key_id"] in {item["key_id"] for item in listed}
        assert all("key" not in item for item in listed)
        assert admin.delete(f"/v1/admin/keys/{created.json()['key_id']}").status_code == 204
        assert admin.delete(f"/v1/admin/keys/{created.json()['key_id']}").status_code == 404
    with httpx.Client(base_url=api.url) as anonymous:
        assert anonymous.get("/v1/whoami", headers={"Authorization": f"Bearer {new_key}"}).status_code == 401


def test_bad_key_requests_are_422_json_without_echoing_input(api):
    with api.client("admin") as admin:
        response = admin.post("/v1/admin/keys", json={"role": "has space SECRETVALUE", "name": "x"})
    assert response.status_code == 422
    assert response.json()["code"] == "invalid_request"
    assert "SECRETVALUE" not in response.text


def test_unknown_paths_and_methods_are_json(api):
    with api.client("admin") as client:
        missing = client.get("/v1/nothing-here")
        wrong_method = client.put("/v1/whoami")
    assert (missing.status_code, missing.json()["code"]) == (404, "not_found")
    assert (wrong_method.status_code, wrong_method.json()["code"]) == (405, "method_not_allowed")


def test_openapi_is_served_and_versioned(api):
    spec = httpx.get(f"{api.url}/openapi.json").json()
    assert spec["info"]["version"] == "1"
    assert spec["paths"] and all(path.startswith("/v1/") for path in spec["paths"])


def test_body_over_the_limit_is_413(api):
    with api.client("admin") as client:
        declared = client.post("/v1/admin/keys", content=b"x" * (3 * 1024 * 1024),
                               headers={"content-type": "application/json"})

        def chunks():
            for _ in range(3 * 64):
                yield b" " * 16384

        streamed = client.post("/v1/admin/keys", content=chunks(), headers={"content-type": "application/json"})
    assert (declared.status_code, declared.json()["code"]) == (413, "body_too_large")
    assert (streamed.status_code, streamed.json()["code"]) == (413, "body_too_large")


def test_rate_limit_per_key_gives_429_and_other_keys_are_unaffected(tmp_path):
    # One request per 5 s per key, burst 1: the second request in a row is over the limit by a wide margin.
    state_url = f"sqlite:///{tmp_path}/state.db"
    state = StateStore.open(state_url)
    first, _ = state.keys.create(role="analyst", name="a")
    second, _ = state.keys.create(role="analyst", name="b")
    state.close()
    server = ServerProcess(state_url, extra=["--rate", "0.2"]).start()
    try:
        with httpx.Client(base_url=server.url) as client:
            assert client.get("/v1/whoami", headers={"X-API-Key": first}).status_code == 200
            limited = client.get("/v1/whoami", headers={"X-API-Key": first})
            other = client.get("/v1/whoami", headers={"X-API-Key": second})
    finally:
        server.stop()
    assert (limited.status_code, limited.json()["code"]) == (429, "rate_limited")
    assert int(limited.headers["retry-after"]) >= 1
    assert other.status_code == 200


def test_keys_create_cli_prints_the_key_once_and_it_works(api):
    script = os.path.join(os.path.dirname(sys.executable), "janedoe-api")
    done = subprocess.run([script, "keys", "create", "--state", api.state_url, "--role", "analyst", "--name", "dave"],
                          capture_output=True, text=True, timeout=60)
    assert done.returncode == 0, done.stderr
    key = done.stdout.strip()
    assert key.startswith("jd_") and key not in done.stderr
    assert StateStore.open(api.state_url).keys.verify(key).name == "dave"
    with httpx.Client(base_url=api.url) as client:
        assert client.get("/v1/whoami", headers={"X-API-Key": key}).json()["name"] == "dave"


def test_keys_create_cli_bad_input_exits_2_with_one_line(api):
    script = os.path.join(os.path.dirname(sys.executable), "janedoe-api")
    done = subprocess.run([script, "keys", "create", "--state", api.state_url, "--role", "bad role", "--name", "x"],
                          capture_output=True, text=True, timeout=60)
    assert done.returncode == 2
    assert done.stdout == "" and len(done.stderr.strip().splitlines()) == 1


def test_serve_refuses_a_bad_state_with_one_line_and_exit_2(tmp_path):
    script = os.path.join(os.path.dirname(sys.executable), "janedoe-api")
    done = subprocess.run([script, "serve", "--state", str(tmp_path / "no-such-dir" / "state.db")],
                          capture_output=True, text=True, timeout=60)
    assert done.returncode == 2
    assert len(done.stderr.strip().splitlines()) == 1 and "--state" in done.stderr


def test_keys_create_cli_grants_the_tools_permission_only_when_asked(api):
    script = os.path.join(os.path.dirname(sys.executable), "janedoe-api")
    granted = {}
    for flag in ([], ["--tools"]):
        done = subprocess.run([script, "keys", "create", "--state", api.state_url, "--role", "analyst",
                               "--name", f"erin{len(flag)}", *flag], capture_output=True, text=True, timeout=60)
        assert done.returncode == 0, done.stderr
        with httpx.Client(base_url=api.url) as client:
            granted[bool(flag)] = client.get("/v1/whoami", headers={"X-API-Key": done.stdout.strip()}).json()["tools"]
    assert granted == {False: False, True: True}
