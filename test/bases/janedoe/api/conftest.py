"""A real API server for the session, on a SQLite state in a temp dir; keys made through the state store."""

import os
import sys

import httpx
import pytest

sys.path.insert(0, os.path.dirname(__file__))

from janedoe.service_store import StateStore  # noqa: E402
from server_process import ServerProcess  # noqa: E402


class Api:
    """A running server plus keys for a few principals and an httpx client per key."""

    def __init__(self, server: ServerProcess, state_url: str) -> None:
        self.server, self.url, self.state_url = server, server.url, state_url
        self.keys: dict[str, str] = {}

    def add_key(self, label: str, *, role: str, name: str, admin: bool = False, tools: bool = False) -> str:
        state = StateStore.open(self.state_url)
        try:
            self.keys[label], _ = state.keys.create(role=role, name=name, admin=admin, tools=tools)
        finally:
            state.close()
        return self.keys[label]

    def client(self, label: str | None = None, **kwargs) -> httpx.Client:
        headers = {"Authorization": f"Bearer {self.keys[label]}"} if label else {}
        return httpx.Client(base_url=self.url, headers=headers, timeout=60, **kwargs)


@pytest.fixture(scope="session")
def api(tmp_path_factory):
    """One server for every API test module (a server takes seconds to boot on a busy machine)."""
    directory = tmp_path_factory.mktemp("api")
    state_url = f"sqlite:///{directory}/state.db"
    StateStore.open(state_url).close()
    server = ServerProcess(state_url, extra=["--max-body-mb", "2", "--rate", "200", "--timeout", "30"]).start()
    api = Api(server, state_url)
    api.add_key("admin", role="owner", name="root", admin=True)
    for role in ("owner", "support", "analyst", "intern"):
        api.add_key(role, role=role, name=f"{role}-user")
    # /v1/mask and /v1/kanon/* need the tools permission: an analyst key that holds it, and an intern one (a role no
    # dataset policy names: the tools never depend on the role).
    api.add_key("tools", role="analyst", name="tools-user", tools=True)
    api.add_key("intern-tools", role="intern", name="intern-tools-user", tools=True)
    yield api
    server.stop()
