"""`/v1/dp/query`, `/v1/dp/budget` and `/v1/admin/budgets` through a real server with a real ledger."""

import pytest
from customers_data import POLICY, customers, write_customers_csv

RAW = customers(rows=400, seed=3)


@pytest.fixture(scope="module")
def dp_dataset(api, tmp_path_factory):
    path = tmp_path_factory.mktemp("dp") / "customers.csv"
    write_customers_csv(path, RAW)
    with api.client("admin") as admin:
        response = admin.post("/v1/datasets", files={"file": ("customers.csv", path.read_bytes()),
                                                     "policy": ("policy.yaml", POLICY.encode())})
    assert response.status_code == 201, response.text
    return response.json()["dataset_id"]


def _query(client, dataset_id, query="count", epsilon=0.1, **extra):
    return client.post("/v1/dp/query", json={"dataset_id": dataset_id, "query": query, "epsilon": epsilon, **extra})


def test_a_count_is_answered_near_the_truth_and_charged(api, dp_dataset):
    api.add_key("dp-count", role="analyst", name="counter")
    with api.client("dp-count") as client:
        response = _query(client, dp_dataset, epsilon=0.5)
        assert response.status_code == 200, response.text
        body = response.json()
        # epsilon 0.5: discrete Laplace with scale 2; |noise| > 40 has probability about e^-20.
        assert abs(body["answer"]["value"] - len(RAW)) <= 40
        assert body["budget"]["spent"] == pytest.approx(0.5) and body["budget"]["remaining"] == pytest.approx(0.5)
        budget = client.get("/v1/dp/budget", params={"dataset_id": dp_dataset}).json()
        assert budget[0]["spent"] == pytest.approx(0.5) and budget[0]["total"] == pytest.approx(1.0)


def test_the_budget_runs_out_exactly_and_a_refusal_spends_nothing(api, dp_dataset):
    api.add_key("dp-spender", role="support", name="spender")
    with api.client("dp-spender") as client:
        statuses = [_query(client, dp_dataset, epsilon=0.25).status_code for _ in range(6)]
        refused = _query(client, dp_dataset, epsilon=0.25)
        budget = client.get("/v1/dp/budget", params={"dataset_id": dp_dataset}).json()[0]
    assert statuses == [200, 200, 200, 200, 409, 409]
    assert (refused.status_code, refused.json()["code"]) == (409, "budget_exceeded")
    assert budget["spent"] == pytest.approx(1.0)


def test_a_mean_uses_the_policy_bounds(api, dp_dataset):
    api.add_key("dp-mean", role="owner", name="meaner")
    true_mean = sum(row["age"] for row in RAW) / len(RAW)
    with api.client("dp-mean") as client:
        response = _query(client, dp_dataset, query="mean(age)", epsilon=1.0)
    assert response.status_code == 200, response.text
    assert abs(response.json()["answer"]["value"] - true_mean) < 15


def test_budgets_are_per_analyst(api, dp_dataset):
    api.add_key("dp-a", role="analyst", name="ann")
    api.add_key("dp-b", role="analyst", name="ben")
    with api.client("dp-a") as ann, api.client("dp-b") as ben:
        assert _query(ann, dp_dataset, epsilon=1.0).status_code == 200
        assert _query(ann, dp_dataset, epsilon=0.1).status_code == 409
        assert _query(ben, dp_dataset, epsilon=1.0).status_code == 200


@pytest.mark.parametrize(
    "body,status,code",
    [
        ({"query": "count(", "epsilon": 0.1}, 400, None),
        ({"query": "sum(nosuchcolumn)", "epsilon": 0.1}, 400, None),
        ({"query": "sum(name)", "epsilon": 0.1}, 400, None),
        ({"query": "count", "epsilon": -1}, 422, "invalid_request"),
        ({"query": "count", "epsilon": 0.1, "dataset_id": "0000000000000000"}, 404, "not_found"),
    ],
)
def test_bad_queries_are_4xx_and_spend_nothing(api, dp_dataset, body, status, code):
    api.add_key("dp-bad", role="analyst", name="careless")
    with api.client("dp-bad") as client:
        response = client.post("/v1/dp/query", json={"dataset_id": dp_dataset, **body})
        assert response.status_code == status, response.text
        if code:
            assert response.json()["code"] == code
        budgets = client.get("/v1/dp/budget").json()
    assert all(budget["spent"] == 0 for budget in budgets)


def test_a_role_the_policy_does_not_name_cannot_query_and_no_key_is_401(api, dp_dataset):
    with api.client("intern") as client:
        response = _query(client, dp_dataset)
        budget = client.get("/v1/dp/budget", params={"dataset_id": dp_dataset})
    assert (response.status_code, response.json()["code"]) == (403, "role_not_allowed")
    assert budget.status_code == 403
    with api.client() as anonymous:
        assert _query(anonymous, dp_dataset).status_code == 401


def test_admin_sets_a_budget_and_non_admins_cannot(api, dp_dataset):
    api.add_key("dp-raised", role="analyst", name="raised")
    with api.client("admin") as admin:
        response = admin.put("/v1/admin/budgets", json={"dataset_id": dp_dataset, "analyst": "raised", "epsilon": 3})
        assert response.status_code == 200 and response.json()["total"] == 3
    with api.client("dp-raised") as client:
        assert [_query(client, dp_dataset, epsilon=1.0).status_code for _ in range(4)] == [200, 200, 200, 409]
        forbidden = client.put("/v1/admin/budgets", json={"dataset_id": dp_dataset, "analyst": "raised", "epsilon": 9})
    assert forbidden.status_code == 403


def test_parameters_the_mechanisms_cannot_run_are_4xx_and_spend_nothing(api, dp_dataset):
    """epsilon 5e-324 or delta 1e-320 used to charge the budget and then end in a 500 (OverflowError)."""
    api.add_key("dp-absurd", role="analyst", name="absurd")
    with api.client("dp-absurd") as client:
        for query, epsilon, delta in [("count", 5e-324, 0.0), ("mean(age)", 5e-324, 0.0), ("count", 1.0, 1e-320),
                                      ("sum(age)", 1e-10, 1e-6)]:
            response = _query(client, dp_dataset, query=query, epsilon=epsilon, delta=delta)
            assert 400 <= response.status_code < 500, response.text
        budget = client.get("/v1/dp/budget", params={"dataset_id": dp_dataset}).json()[0]
    assert budget["spent"] == 0 and budget["spent_delta"] == 0
