"""`POST /v1/mask` through a real server: the masked file comes back, errors are 4xx JSON, nothing is kept."""

import csv
import io
import os
import time

import pyarrow.parquet as pq
from customers_data import MASKED_FOR_ROLE, POLICY, customers, write_customers_csv

RAW = customers(rows=120, seed=11)


def _upload(tmp_path) -> bytes:
    path = tmp_path / "customers.csv"
    write_customers_csv(path, RAW)
    return path.read_bytes()


def _leftovers(api) -> list[str]:
    """Upload dirs still present; the response's cleanup runs just after the last byte is sent, so wait for it."""
    data_dir = api.state_url.removeprefix("sqlite:///").removesuffix(".db") + "-data"
    for _ in range(100):
        left = [name for name in os.listdir(data_dir) if name.startswith(".upload-")]
        if not left:
            return left
        time.sleep(0.05)
    return left


def test_mask_returns_the_masked_csv_and_keeps_nothing(api, tmp_path):
    with api.client("intern-tools") as client:
        response = client.post(
            "/v1/mask", files={"file": ("customers.csv", _upload(tmp_path)), "policy": ("p.yaml", POLICY.encode())}
        )
    assert response.status_code == 200, response.text
    masked = list(csv.DictReader(io.StringIO(response.text)))
    assert len(masked) == len(RAW)
    # The default rules (no role applies to /v1/mask): everything the analyst role masks by default is masked.
    for column in MASKED_FOR_ROLE["analyst"]:
        assert not ({row[column] for row in masked} & {str(row[column]) for row in RAW}), column
    assert [row["city"] for row in masked] == [row["city"] for row in RAW]
    assert [row["email"][:2] for row in masked] == [row["email"][:2] for row in RAW]
    assert _leftovers(api) == []


def test_mask_can_answer_in_another_format(api, tmp_path):
    with api.client("tools") as client:
        response = client.post(
            "/v1/mask", files={"file": ("customers.csv", _upload(tmp_path)), "policy": ("p.yaml", POLICY.encode())},
            data={"output_format": "parquet"},
        )
    assert response.status_code == 200
    table = pq.read_table(io.BytesIO(response.content))
    assert table.num_rows == len(RAW) and table.column_names == list(RAW[0])


def test_mask_errors_are_400_and_leave_nothing(api, tmp_path):
    cases = [
        (POLICY.replace("partial_email", "partial_mail"), "customers.csv", "policy"),
        (POLICY, "other.csv", "other.csv"),
    ]
    with api.client("tools") as client:
        for policy, name, where in cases:
            response = client.post(
                "/v1/mask", files={"file": (name, _upload(tmp_path)), "policy": ("p.yaml", policy.encode())}
            )
            assert response.status_code == 400, response.text
            assert where in response.json()["message"] and ".upload-" not in response.text
    assert _leftovers(api) == []


def test_mask_without_a_key_is_401_and_without_a_file_is_422(api):
    with api.client() as anonymous:
        assert anonymous.post("/v1/mask", files={"file": ("a.csv", b"a\n1\n")}).status_code == 401
    with api.client("tools") as client:
        missing = client.post("/v1/mask", files={"policy": ("p.yaml", POLICY.encode())})
    assert (missing.status_code, missing.json()["code"]) == (422, "invalid_request")


LATIN1_POLICY = """\
version: 1
default: keep
tables:
  people:
    columns:
      name: {mask: pseudonymize, kind: name}
      id: {mask: hash}
"""
PEOPLE = "id,name,city\n1,Jürgen Müller,Köln\n2,Zoë Ångström,Malmö\n3,Zed1 Quuxley,Graz\n"


def test_a_latin1_upload_masks_like_the_same_text_in_utf8_given_its_encoding(api):
    secret = {"secret": "caller-key-0123456789"}
    policy = ("p.yaml", LATIN1_POLICY.encode())
    with api.client("tools") as client:
        utf8 = client.post("/v1/mask", files={"file": ("people.csv", PEOPLE.encode()), "policy": policy}, data=secret)
        latin1 = client.post("/v1/mask", files={"file": ("people.csv", PEOPLE.encode("latin-1")), "policy": policy},
                             data={**secret, "encoding": "latin-1"})
        undeclared = client.post("/v1/mask", files={"file": ("people.csv", PEOPLE.encode("latin-1")),
                                                    "policy": policy}, data=secret)
        unknown = client.post("/v1/mask", files={"file": ("people.csv", PEOPLE.encode("latin-1")), "policy": policy},
                              data={**secret, "encoding": "no-such-codec"})
    assert (utf8.status_code, latin1.status_code) == (200, 200), latin1.text
    assert latin1.text == utf8.text  # the same names, the same pseudonyms and hashes
    assert [row["city"] for row in csv.DictReader(io.StringIO(latin1.text))] == ["Köln", "Malmö", "Graz"]
    assert undeclared.status_code == 400 and "people.csv" in undeclared.json()["message"]
    assert unknown.status_code == 400 and "encoding" in unknown.json()["message"]
