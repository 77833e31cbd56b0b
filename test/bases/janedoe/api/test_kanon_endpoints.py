"""`/v1/kanon/check` and `/v1/kanon/apply` through a real server, checked with plain Python group counts."""

import csv
import io
import json
from collections import Counter
from pathlib import Path

import pytest

ADULT = Path(__file__).resolve().parents[4] / "data" / "adult" / "adult.csv"


@pytest.fixture(scope="module")
def adult_sample() -> bytes:
    with open(ADULT, encoding="utf-8") as handle:
        lines = handle.read().splitlines()
    return ("\n".join(lines[:3001]) + "\n").encode()


def _rows(data: bytes) -> list[dict]:
    return list(csv.DictReader(io.StringIO(data.decode()), delimiter=";" if b";" in data.split(b"\n")[0] else ","))


def test_check_reports_the_smallest_class_size(api, adult_sample):
    rows = _rows(adult_sample)
    smallest = min(Counter((row["sex"], row["age"], row["race"]) for row in rows).values())
    with api.client("tools") as client:
        response = client.post("/v1/kanon/check", files={"file": ("adult.csv", adult_sample)},
                               data={"qi": "sex,age,race", "k": "5"})
    assert response.status_code == 200, response.text
    result = response.json()
    assert (result["records"], result["k"], result["k_met"]) == (len(rows), smallest, smallest >= 5)


def test_apply_returns_a_k_anonymous_file(api, adult_sample):
    with api.client("tools") as client:
        response = client.post("/v1/kanon/apply", files={"file": ("adult.csv", adult_sample)},
                               data={"qi": "sex,age,race", "k": "10", "method": "mondrian"})
    assert response.status_code == 200, response.text
    rows = _rows(response.content)
    assert len(rows) == 3000
    sizes = Counter((row["sex"], row["age"], row["race"]) for row in rows)
    assert min(sizes.values()) >= 10
    summary = json.loads(response.headers["x-janedoe-report"])
    assert summary["records_in"] == 3000 and summary["achieved"]["k"] >= 10
    untouched = _rows(adult_sample)
    # the same records, shuffled: the input's order would link rows back (component k_anonymity.row_order)
    assert Counter(row["occupation"] for row in rows) == Counter(row["occupation"] for row in untouched)
    assert [row["occupation"] for row in rows] != [row["occupation"] for row in untouched]


@pytest.mark.parametrize(
    "path,data,status",
    [
        ("/v1/kanon/check", {"qi": "nosuchcolumn"}, 400),
        ("/v1/kanon/apply", {"qi": "sex,age", "k": "100000"}, 400),
        ("/v1/kanon/apply", {"qi": "sex", "k": "0"}, 422),
        ("/v1/kanon/check", {"qi": ",,"}, 422),
    ],
)
def test_kanon_bad_input_is_4xx_json(api, adult_sample, path, data, status):
    with api.client("tools") as client:
        response = client.post(path, files={"file": ("adult.csv", adult_sample)}, data=data)
    assert response.status_code == status, response.text
    assert set(response.json()) == {"code", "message"}


def test_kanon_needs_a_key(api, adult_sample):
    with api.client() as anonymous:
        response = anonymous.post("/v1/kanon/check", files={"file": ("adult.csv", adult_sample)}, data={"qi": "sex"})
    assert response.status_code == 401
