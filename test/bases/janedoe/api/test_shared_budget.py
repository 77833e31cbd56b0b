"""Several server processes on one PostgreSQL state: one budget, no overspend under load, nothing lost on kill -9."""

import asyncio
import threading

import httpx
import pytest
from customers_data import POLICY, customers, write_customers_csv
from janedoe.ledger import Ledger
from janedoe.service_store import StateStore
from server_process import ServerProcess

ANALYSTS = ["ana", "bo", "cy", "di"]
COST = 0.1  # the policy gives each analyst epsilon 1.0: exactly 10 answers each


def _setup(state_url: str, data_dir: str) -> tuple[str, dict[str, str]]:
    state = StateStore.open(state_url, data_dir=data_dir)
    admin, _ = state.keys.create(role="owner", name="root", admin=True)
    keys = {name: state.keys.create(role="analyst", name=name)[0] for name in ANALYSTS}
    state.close()
    return admin, keys


def _register(url: str, admin: str, tmp_path) -> str:
    path = tmp_path / "customers.csv"
    write_customers_csv(path, customers(rows=300))
    response = httpx.post(f"{url}/v1/datasets", headers={"X-API-Key": admin}, timeout=60,
                          files={"file": ("customers.csv", path.read_bytes()),
                                 "policy": ("policy.yaml", POLICY.encode())})
    assert response.status_code == 201, response.text
    return response.json()["dataset_id"]


async def _storm(urls: list[str], keys: dict[str, str], dataset_id: str, per_analyst: int) -> list[tuple[str, int]]:
    limits = httpx.Limits(max_connections=64)
    async with httpx.AsyncClient(timeout=120, limits=limits) as client:
        async def one(index: int, analyst: str):
            response = await client.post(
                f"{urls[index % len(urls)]}/v1/dp/query", headers={"X-API-Key": keys[analyst]},
                json={"dataset_id": dataset_id, "query": "count", "epsilon": COST},
            )
            return analyst, response.status_code

        calls = [one(index, analyst) for index in range(per_analyst) for analyst in ANALYSTS]
        return await asyncio.gather(*calls)


def test_two_processes_200_concurrent_queries_answer_exactly_the_budget(postgres_url, tmp_path):
    data_dir = str(tmp_path / "data")
    admin, keys = _setup(postgres_url, data_dir)
    servers = [ServerProcess(postgres_url, data_dir=data_dir).launch() for _ in range(2)]
    for server in servers:
        server.wait_ready()
    try:
        dataset_id = _register(servers[0].url, admin, tmp_path)
        results = asyncio.run(_storm([server.url for server in servers], keys, dataset_id, per_analyst=50))
    finally:
        for server in servers:
            server.stop()
    assert len(results) == 200
    assert {status for _, status in results} <= {200, 409}
    for analyst in ANALYSTS:
        answered = sum(1 for who, status in results if who == analyst and status == 200)
        assert answered == 10, analyst
    ledger = Ledger.open(postgres_url)
    try:
        for analyst in ANALYSTS:
            budget = ledger.budget(dataset_id, analyst)
            assert budget.spent <= budget.total * (1 + 1e-9)
            assert len(ledger.spends(dataset_id, analyst)) == 10
    finally:
        ledger.close()


def test_kill_9_mid_load_loses_no_spend_and_no_dataset(tmp_path):
    # The default SQLite state; the PostgreSQL state's durability is the ledger's and PostgreSQL's own.
    state_url = f"sqlite:///{tmp_path}/state.db"
    data_dir = str(tmp_path / "data")
    admin, keys = _setup(state_url, data_dir)
    server = ServerProcess(state_url, data_dir=data_dir).start()
    dataset_id = _register(server.url, admin, tmp_path)
    answered: list[int] = []
    stop = threading.Event()

    def load():
        with httpx.Client(timeout=10, headers={"X-API-Key": keys["ana"]}) as client:
            while not stop.is_set():
                try:
                    response = client.post(f"{server.url}/v1/dp/query",
                                           json={"dataset_id": dataset_id, "query": "count", "epsilon": 0.01})
                except httpx.TransportError:
                    return
                if response.status_code == 200:
                    answered.append(1)

    loader = threading.Thread(target=load)
    loader.start()
    while len(answered) < 15 and loader.is_alive():
        stop.wait(0.02)
    server.kill9()
    stop.set()
    loader.join(timeout=30)
    assert len(answered) >= 15

    restarted = ServerProcess(state_url, data_dir=data_dir).start()
    try:
        with httpx.Client(base_url=restarted.url, timeout=60, headers={"X-API-Key": keys["ana"]}) as client:
            assert client.get(f"/v1/datasets/{dataset_id}").status_code == 200
            rows = client.get(f"/v1/datasets/{dataset_id}/rows", params={"limit": 5})
            assert rows.status_code == 200 and len(rows.json()["rows"]) == 5
            budget = client.get("/v1/dp/budget", params={"dataset_id": dataset_id}).json()[0]
            # Every answer the client saw was charged; a query cut off by the kill may be charged unanswered.
            assert budget["spent"] >= len(answered) * 0.01 - 1e-9
            assert budget["spent"] <= (len(answered) + 2) * 0.01 + 1e-9
            before = budget["spent"]
            assert client.post("/v1/dp/query", json={"dataset_id": dataset_id, "query": "count",
                                                     "epsilon": 0.01}).status_code == 200
            after = client.get("/v1/dp/budget", params={"dataset_id": dataset_id}).json()[0]["spent"]
            assert after == pytest.approx(before + 0.01)
    finally:
        restarted.stop()
