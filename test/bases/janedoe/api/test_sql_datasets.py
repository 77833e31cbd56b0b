"""Datasets registered from a SQL table through a real server: SQLite and PostgreSQL sources, masking per role,
errors as JSON, admin only, and a password in the URL never coming back in any response."""

import csv
import hashlib
import io
import json
import sqlite3

import psycopg
import pytest
from customers_data import COLUMNS, MASKED_FOR_ROLE, POLICY, customers

RAW = customers()
PASSWORD = "Tr0ub4dor-S3cret"
CREATE = "CREATE TABLE customers (id TEXT PRIMARY KEY, name TEXT, email TEXT, ssn TEXT, age INTEGER, city TEXT)"
INSERT_ROWS = [tuple(row[column] for column in COLUMNS) for row in RAW]


@pytest.fixture(scope="module")
def sqlite_source(tmp_path_factory):
    path = str(tmp_path_factory.mktemp("sqlsource") / "shop.db")
    with sqlite3.connect(path) as conn:
        conn.execute(CREATE)
        conn.executemany("INSERT INTO customers VALUES (?, ?, ?, ?, ?, ?)", INSERT_ROWS)
        conn.execute("CREATE TABLE leads (id TEXT PRIMARY KEY, name TEXT, phone TEXT)")
    conn.close()
    return path


@pytest.fixture(scope="module")
def sqlite_dataset(api, sqlite_source):
    with api.client("admin") as admin:
        response = admin.post("/v1/datasets/from-sql", json={
            "name": "customers-sql", "url": f"sqlite:///{sqlite_source}", "table": "customers", "policy": POLICY,
        })
    assert response.status_code == 201, response.text
    return response.json()


def _sha256(path: str) -> str:
    with open(path, "rb") as handle:
        return hashlib.sha256(handle.read()).hexdigest()


def _all_rows(client, dataset_id: str) -> list[dict]:
    response = client.get(f"/v1/datasets/{dataset_id}/rows", params={"limit": 10_000})
    assert response.status_code == 200, response.text
    return response.json()["rows"]


def test_a_sqlite_table_registers_and_the_owner_reads_it_exactly(api, sqlite_dataset, sqlite_source):
    assert sqlite_dataset["row_count"] == len(RAW)
    assert [column["name"] for column in sqlite_dataset["columns"]] == COLUMNS
    assert sqlite_dataset["source"] == f"sqlite:///{sqlite_source} table customers"
    with api.client("owner") as client:
        described = client.get(f"/v1/datasets/{sqlite_dataset['dataset_id']}").json()
        assert {key: described[key] for key in ("name", "row_count", "columns", "source")} == {
            key: sqlite_dataset[key] for key in ("name", "row_count", "columns", "source")
        }
        listed = {item["dataset_id"]: item for item in client.get("/v1/datasets").json()}
        assert listed[sqlite_dataset["dataset_id"]]["source"] == sqlite_dataset["source"]
        assert all(item["source"] is None for key, item in listed.items() if item["name"] != "customers-sql")
        assert _all_rows(client, sqlite_dataset["dataset_id"]) == RAW  # the table's key order is the id order


@pytest.mark.parametrize("role", ["support", "analyst"])
def test_a_masked_role_never_receives_an_original_value(api, sqlite_dataset, role):
    raw_values = {column: {str(row[column]) for row in RAW} for column in COLUMNS}
    with api.client(role) as client:
        rows = _all_rows(client, sqlite_dataset["dataset_id"])
        exported = client.get(f"/v1/datasets/{sqlite_dataset['dataset_id']}/export", params={"format": "csv"})
    assert exported.status_code == 200 and len(rows) == len(RAW)
    exported_rows = list(csv.DictReader(io.StringIO(exported.text)))
    assert len(exported_rows) == len(RAW)
    for column in MASKED_FOR_ROLE[role]:
        seen = {str(row[column]) for row in rows} | {row[column] for row in exported_rows}
        assert not (seen & raw_values[column]), (role, column)
        body = json.dumps(rows) + exported.text
        assert not any(value in body for value in raw_values[column] if len(value) > 3), (role, column)


def test_a_role_the_policy_does_not_name_gets_403(api, sqlite_dataset):
    with api.client("intern") as client:
        response = client.get(f"/v1/datasets/{sqlite_dataset['dataset_id']}/rows")
    assert response.status_code == 403 and response.json()["code"]


def test_the_source_database_is_never_modified(api, sqlite_source):
    before = _sha256(sqlite_source)
    with api.client("admin") as admin:
        response = admin.post("/v1/datasets/from-sql", json={
            "name": "again", "url": sqlite_source, "table": "customers", "policy": POLICY,
        })
        assert response.status_code == 201, response.text
        assert admin.delete(f"/v1/datasets/{response.json()['dataset_id']}").status_code == 204
        assert admin.get(f"/v1/datasets/{response.json()['dataset_id']}").status_code == 404
    assert _sha256(sqlite_source) == before


def test_errors_are_json_4xx(api, sqlite_source, tmp_path):
    cases = [
        ({"url": f"sqlite:///{sqlite_source}", "table": "no_such_table", "policy": POLICY}, 404),
        ({"url": f"sqlite:///{tmp_path}/missing.db", "table": "customers", "policy": POLICY}, 400),
        ({"url": "mysql://someone:pw@db.example/x", "table": "customers", "policy": POLICY}, 400),
        # The policy's default is `error` and it does not cover `phone`: refused at registration, like an upload.
        ({"url": f"sqlite:///{sqlite_source}", "table": "leads", "policy_table": "customers", "policy": POLICY}, 400),
        ({"url": f"sqlite:///{sqlite_source}", "table": "customers", "policy": "version: [unclosed"}, 400),
    ]
    with api.client("admin") as admin:
        before = {item["dataset_id"] for item in admin.get("/v1/datasets").json()}
        for body, status in cases:
            response = admin.post("/v1/datasets/from-sql", json={"name": "bad", **body})
            assert response.status_code == status, (body, response.text)
            assert set(response.json()) == {"code", "message"}
            assert "no_such_table" in response.json()["message"] or status != 404
        assert {item["dataset_id"] for item in admin.get("/v1/datasets").json()} == before


def test_only_admins_may_register(api, sqlite_source):
    body = {"name": "x", "url": f"sqlite:///{sqlite_source}", "table": "customers", "policy": POLICY}
    with api.client("owner") as owner:
        assert owner.post("/v1/datasets/from-sql", json=body).status_code == 403
    with api.client() as anonymous:
        assert anonymous.post("/v1/datasets/from-sql", json=body).status_code == 401


def test_postgres_source_with_a_password_never_echoes_it(api, postgres_url):
    with psycopg.connect(postgres_url, autocommit=True) as conn:
        conn.execute(CREATE)
        with conn.cursor() as cursor:
            cursor.executemany("INSERT INTO customers VALUES (%s, %s, %s, %s, %s, %s)", INSERT_ROWS)
    # The test cluster trusts 127.0.0.1, so the password is accepted and ignored: the URL still works.
    url = postgres_url.replace("postgres@", f"postgres:{PASSWORD}@", 1)
    unreachable = url.rsplit("@", 1)[0] + "@127.0.0.1:1/nowhere"  # nothing listens on port 1
    bodies = []
    with api.client("admin") as admin:
        created = admin.post("/v1/datasets/from-sql", json={
            "name": "customers-pg", "url": url, "table": "customers", "policy": POLICY,
        })
        assert created.status_code == 201, created.text
        dataset_id = created.json()["dataset_id"]
        assert created.json()["row_count"] == len(RAW)
        assert "postgres:***@127.0.0.1" in created.json()["source"]
        missing = admin.post("/v1/datasets/from-sql", json={"name": "m", "url": url, "table": "nope", "policy": POLICY})
        assert missing.status_code == 404
        refused = admin.post("/v1/datasets/from-sql", json={
            "name": "m", "url": unreachable, "table": "customers", "policy": POLICY,
        })
        assert refused.status_code == 400 and refused.json()["code"]
        invalid = admin.post("/v1/datasets/from-sql", json={"name": "no spaces!?", "url": url, "table": "t"})
        assert invalid.status_code == 422
        bodies += [created.text, missing.text, refused.text, invalid.text]
        bodies += [admin.get(f"/v1/datasets/{dataset_id}").text, admin.get("/v1/datasets").text]
        with api.client("owner") as owner:
            assert _all_rows(owner, dataset_id) == RAW
        admin.delete(f"/v1/datasets/{dataset_id}")
    for text in bodies:
        assert PASSWORD not in text
