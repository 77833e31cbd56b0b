"""Datasets through a real server: registration, masked rows per role, export, deletion, the authorization matrix."""

import csv
import io
import json

import pyarrow.parquet as pq
import pytest
from customers_data import (
    COLUMNS,
    MASKED_FOR_ROLE,
    POLICY,
    ROLES_NOT_IN_POLICY,
    customers,
    write_customers_csv,
)

RAW = customers()


@pytest.fixture(scope="module")
def dataset(api, tmp_path_factory):
    path = tmp_path_factory.mktemp("upload") / "customers.csv"
    write_customers_csv(path, RAW)
    with api.client("admin") as admin, open(path, "rb") as data:
        response = admin.post(
            "/v1/datasets", files={"file": ("customers.csv", data), "policy": ("policy.yaml", POLICY.encode())},
            data={"name": "customers"},
        )
    assert response.status_code == 201, response.text
    return response.json()


def _all_rows(client, dataset_id: str) -> list[dict]:
    rows, offset = [], 0
    while True:
        page = client.get(f"/v1/datasets/{dataset_id}/rows", params={"offset": offset, "limit": 100})
        assert page.status_code == 200, page.text
        rows += page.json()["rows"]
        if len(page.json()["rows"]) < 100:
            return rows
        offset += 100


def _raw_values(column: str) -> set[str]:
    return {str(row[column]) for row in RAW}


def test_registration_describes_schema_and_row_count(api, dataset):
    assert dataset["row_count"] == len(RAW)
    assert [column["name"] for column in dataset["columns"]] == COLUMNS
    with api.client("analyst") as client:
        assert client.get(f"/v1/datasets/{dataset['dataset_id']}").json() == dataset
        assert dataset["dataset_id"] in {item["dataset_id"] for item in client.get("/v1/datasets").json()}


def test_owner_sees_exactly_the_raw_data(api, dataset):
    with api.client("owner") as client:
        rows = _all_rows(client, dataset["dataset_id"])
    assert rows == RAW


@pytest.mark.parametrize("role", ["support", "analyst"])
def test_a_masked_role_never_receives_an_original_value_of_a_masked_column(api, dataset, role):
    with api.client(role) as client:
        rows = _all_rows(client, dataset["dataset_id"])
        exported = client.get(f"/v1/datasets/{dataset['dataset_id']}/export", params={"format": "csv"})
    assert len(rows) == len(RAW)
    exported_rows = list(csv.DictReader(io.StringIO(exported.text)))
    assert len(exported_rows) == len(RAW)
    for column in COLUMNS:
        seen = {str(row[column]) for row in rows} | {row[column] for row in exported_rows}
        if column in MASKED_FOR_ROLE[role]:
            assert not (seen & _raw_values(column)), (role, column)
        else:
            assert [str(row[column]) for row in rows] == [str(row[column]) for row in RAW], (role, column)
    # No raw value of a masked column anywhere in the body, under any column name.
    for column in MASKED_FOR_ROLE[role]:
        body = json.dumps(rows) + exported.text
        assert not any(value in body for value in _raw_values(column) if len(value) > 3), (role, column)


def test_deterministic_rules_give_the_same_value_on_every_read_and_page(api, dataset):
    with api.client("analyst") as client:
        first = client.get(f"/v1/datasets/{dataset['dataset_id']}/rows", params={"offset": 10, "limit": 20}).json()
        again = client.get(f"/v1/datasets/{dataset['dataset_id']}/rows", params={"offset": 0, "limit": 40}).json()
    assert first["rows"] == again["rows"][10:30]
    assert first["total_rows"] == len(RAW)


def test_generalized_age_contains_the_original(api, dataset):
    with api.client("support") as client:
        rows = _all_rows(client, dataset["dataset_id"])
    for masked, raw in zip(rows, RAW, strict=True):
        low, high = (int(part) for part in str(masked["age"]).split("-"))
        assert low <= raw["age"] <= high and high - low == 9


@pytest.mark.parametrize("role", ROLES_NOT_IN_POLICY)
def test_a_role_the_policy_does_not_name_gets_403_on_rows_and_export(api, dataset, role):
    with api.client(role) as client:
        rows = client.get(f"/v1/datasets/{dataset['dataset_id']}/rows")
        export = client.get(f"/v1/datasets/{dataset['dataset_id']}/export")
    assert (rows.status_code, rows.json()["code"]) == (403, "role_not_allowed")
    assert (export.status_code, export.json()["code"]) == (403, "role_not_allowed")


@pytest.mark.parametrize("file_format", ["parquet", "jsonl"])
def test_export_formats_carry_the_same_masked_rows(api, dataset, file_format):
    with api.client("analyst") as client:
        rows = _all_rows(client, dataset["dataset_id"])
        exported = client.get(f"/v1/datasets/{dataset['dataset_id']}/export", params={"format": file_format})
    assert exported.status_code == 200
    if file_format == "parquet":
        got = pq.read_table(io.BytesIO(exported.content)).to_pylist()
    else:
        got = [json.loads(line) for line in exported.text.splitlines()]
    assert [row["id"] for row in got] == [row["id"] for row in rows]
    assert [row["email"] for row in got] == [row["email"] for row in rows]


def test_rows_paging_errors(api, dataset):
    with api.client("analyst") as client:
        assert client.get(f"/v1/datasets/{dataset['dataset_id']}/rows", params={"limit": 0}).status_code == 422
        assert client.get(f"/v1/datasets/{dataset['dataset_id']}/rows", params={"offset": -1}).status_code == 422
        past = client.get(f"/v1/datasets/{dataset['dataset_id']}/rows", params={"offset": 10_000})
        assert past.status_code == 200 and past.json()["rows"] == []
        missing = client.get("/v1/datasets/0000000000000000/rows")
        assert (missing.status_code, missing.json()["code"]) == (404, "not_found")
        bad_format = client.get(f"/v1/datasets/{dataset['dataset_id']}/export", params={"format": "xlsx"})
        assert bad_format.status_code == 422


def test_reads_are_audited_with_who_and_how_many(api, dataset):
    with api.client("support") as client:
        client.get(f"/v1/datasets/{dataset['dataset_id']}/rows", params={"offset": 5, "limit": 7})
    with api.client("admin") as admin:
        entries = admin.get("/v1/admin/audit", params={"dataset_id": dataset["dataset_id"], "analyst": "support-user"})
    latest = entries.json()[0]
    assert (latest["action"], latest["role"], latest["rows"], latest["detail"]) == (
        "dataset.rows", "support", 7, "offset=5 limit=7")


@pytest.mark.parametrize("role", ["owner", "support", "analyst", "intern"])
def test_only_admin_keys_register_or_delete(api, dataset, role):
    with api.client(role) as client:
        register = client.post("/v1/datasets", files={"file": ("c.csv", b"a\n1\n"), "policy": ("p.yaml", b"x")})
        delete = client.delete(f"/v1/datasets/{dataset['dataset_id']}")
    assert (register.status_code, delete.status_code) == (403, 403)


@pytest.mark.parametrize(
    "policy,filename,content,where",
    [
        ("version: 1\ntables: {}\n", "customers.csv", b"id\n1\n", "tables.customers"),
        (POLICY.replace("{mask: hash}", "{mask: nosuchrule}"), "customers.csv", b"id\n1\n", "policy"),
        (POLICY, "customers.xlsx", b"id\n1\n", "customers.xlsx"),
        (POLICY.replace("owner: {raw: true}", "owner: {raw: true, tables: {customers: {id: keep}}}"), "customers.csv",
         b"id\n1\n", "raw"),
        (POLICY.replace("email: {mask: hash}", "email: {mask: nosuchrule}"), "customers.csv", b"id\n1\n", "roles"),
        (POLICY, "customers.csv", b"id,name\n1\n", "customers.csv"),
    ],
)
def test_bad_registrations_are_400_naming_the_problem_not_a_server_path(api, policy, filename, content, where):
    with api.client("admin") as admin:
        response = admin.post(
            "/v1/datasets", files={"file": (filename, content), "policy": ("policy.yaml", policy.encode())}
        )
    assert response.status_code == 400, response.text
    assert where in response.json()["message"]
    assert ".upload-" not in response.text and "Traceback" not in response.text


def test_delete_removes_the_dataset(api):
    with api.client("admin") as admin:
        created = admin.post(
            "/v1/datasets",
            files={"file": ("customers.csv", b"id,name,email,ssn,age,city\nC1,Zed Q,a@b.org,123-45-6789,40,Graz\n"),
                   "policy": ("policy.yaml", POLICY.encode())},
        ).json()
        assert admin.delete(f"/v1/datasets/{created['dataset_id']}").status_code == 204
        assert admin.get(f"/v1/datasets/{created['dataset_id']}").status_code == 404
        assert admin.get(f"/v1/datasets/{created['dataset_id']}/rows").status_code == 404
        assert admin.delete(f"/v1/datasets/{created['dataset_id']}").status_code == 404


def test_a_latin1_upload_registers_given_its_encoding(api):
    text = "id,name,email,ssn,age,city\nC1,Jürgen Müller,j@b.org,123-45-6789,40,Köln\n"
    files = {"file": ("customers.csv", text.encode("latin-1")), "policy": ("policy.yaml", POLICY.encode())}
    with api.client("admin") as admin:
        refused = admin.post("/v1/datasets", files=files)
        created = admin.post("/v1/datasets", files=files, data={"encoding": "latin-1", "name": "latin1"})
        assert refused.status_code == 400 and "customers.csv" in refused.json()["message"]
        assert created.status_code == 201, created.text
        with api.client("owner") as owner:
            rows = owner.get(f"/v1/datasets/{created.json()['dataset_id']}/rows").json()["rows"]
        assert (rows[0]["name"], rows[0]["city"]) == ("Jürgen Müller", "Köln")
        admin.delete(f"/v1/datasets/{created.json()['dataset_id']}")
