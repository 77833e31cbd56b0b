"""janedoe.job_client: stage-1 exact answers on a local Parquet table, the real broker over a real socket, paths."""

import os
import subprocess
import sys

import numpy as np
import pyarrow as pa
import pyarrow.csv as pacsv
import pyarrow.parquet as pq
import pytest
from janedoe.dataset_ingestion import ingest_dataset
from janedoe.dataset_masking import MaskedViews
from janedoe.dataset_privacy import DatasetPrivacy
from janedoe.errors import JaneDoeInputError
from janedoe.job_client import BrokerClient, QueryRefused, data_path, output_path, query
from janedoe.ledger import Ledger
from janedoe.service_store import Principal, StateStore
from janedoe.stage_one import QueryBroker, broker_answerer

POLICY = """\
version: 1
tables:
  people:
    dp: {epsilon: 1.0}
    columns:
      region: {mask: keep, categories: [north, south]}
      age: {mask: keep, bounds: [0, 100]}
roles:
  analyst: {}
"""
ENV = ("JANEDOE_DATA_DIR", "JANEDOE_OUTPUT_DIR", "JANEDOE_BROKER_SOCKET", "JANEDOE_JOB_STAGE")


@pytest.fixture(autouse=True)
def clean_environment(monkeypatch):
    for name in ENV:
        monkeypatch.delenv(name, raising=False)


@pytest.fixture
def stage_one(tmp_path, monkeypatch):
    """A stage-1 data folder holding one table, as the sandbox mounts it."""
    region = ["north", "south", "north", None, "south", "north", "south", "north"]
    age = [30, 41, None, 50, 22, 61, 35, 18]
    score = [0.5, float("nan"), 1.5, 2.0, None, 3.0, 1.0, 0.25]
    (tmp_path / "data").mkdir()
    pq.write_table(pa.table({"region": region, "age": pa.array(age, pa.int64()), "score": score}),
                   tmp_path / "data" / "people.parquet")
    monkeypatch.setenv("JANEDOE_DATA_DIR", str(tmp_path / "data"))
    return {"region": region, "age": age, "score": score}


def _by(rows: dict, value: str, key: str) -> list:
    """The non-missing `value`s of rows whose region is `key` (NaN counts as missing, like the DP answers)."""
    return [v for r, v in zip(rows["region"], rows[value], strict=True)
            if r == key and v is not None and v == v]


def test_stage_one_answers_are_exact_on_the_local_table(stage_one):
    answer = query("count", epsilon=0.1)
    assert answer["value"] == 8 and answer["stage"] == "1" and answer["noise"] == []
    assert "synthetic" in answer["notes"][0] and answer["groups"] is None
    assert query("sum(age)", epsilon=0.1)["value"] == 257
    assert query("mean(score)", epsilon=0.1)["value"] == pytest.approx((0.5 + 1.5 + 2 + 3 + 1 + 0.25) / 6)
    means = query("mean(age)", by="region", epsilon=0.1)
    assert means["query"] == "mean(age) by region"
    assert [(g["key"], g["value"]) for g in means["groups"]] == [
        ("north", pytest.approx(np.mean(_by(stage_one, "age", "north")))),
        ("south", pytest.approx(np.mean(_by(stage_one, "age", "south")))),
    ]
    variance = query("variance(score)", by="region", epsilon=0.1)["groups"]
    assert variance[0]["value"] == pytest.approx(np.var(_by(stage_one, "score", "north")))
    assert variance[1]["value"] == pytest.approx(np.var(_by(stage_one, "score", "south")))
    assert query("median(age)", epsilon=0.1)["value"] == 35.0  # 18 22 30 35 41 50 61: the 4th of 7
    assert query("quantile(age, 0.9)", by="region", epsilon=0.1)["groups"][0]["value"] == 61.0
    histogram = query("histogram(region)", epsilon=0.1)
    assert histogram["query"] == "histogram(region)"
    assert [(g["key"], g["value"]) for g in histogram["groups"]] == [("north", 4), ("south", 3)]


def test_stage_one_refuses_what_the_broker_refuses(stage_one):
    for expression, epsilon, by in (("count", 0, None), ("count", float("nan"), None), ("count", True, None),
                                    ("frobnicate(age)", 0.1, None), ("mean(nosuch)", 0.1, None),
                                    ("mean(region)", 0.1, None), ("count", 0.1, "nosuch"),
                                    ("histogram(region)", 0.1, "age")):
        with pytest.raises(QueryRefused):
            query(expression, by=by, epsilon=epsilon)
    assert query("count", epsilon=np.float32(0.5))["value"] == 8  # numpy scalars are numbers too


def test_review_mode_answers_say_so(stage_one, monkeypatch):
    monkeypatch.setenv("JANEDOE_JOB_STAGE", "2")
    answer = query("count", epsilon=0.1)
    assert answer["stage"] == "2" and "review mode" in answer["notes"][0]


def test_the_client_asks_a_real_broker_over_a_real_socket(tmp_path, monkeypatch):
    monkeypatch.setenv("JANEDOE_SECRET", "job-client-test-secret-0123456789")
    rng = np.random.default_rng(1)
    pacsv.write_csv(pa.table({"region": rng.choice(["north", "south"], 500), "age": rng.integers(0, 101, 500)}),
                    tmp_path / "people.csv")
    state = StateStore.open(str(tmp_path / "state.db"))
    record = ingest_dataset(state, upload_path=str(tmp_path / "people.csv"), shown_name="people.csv", name="people",
                            table_name=None, policy_text=POLICY, created_by="owner")
    ledger = Ledger.open(state.ledger_url)
    privacy = DatasetPrivacy(ledger, MaskedViews())
    author = Principal(key_id="k", name="ana", role="analyst", admin=False)
    folder = tmp_path / "run"
    folder.mkdir(mode=0o700)
    try:
        with QueryBroker(folder / "broker.sock", broker_answerer(record, privacy, author), max_connections=1) as broker:
            monkeypatch.setenv("JANEDOE_BROKER_SOCKET", str(folder / "broker.sock"))
            count = query("count", epsilon=0.5)
            assert abs(count["value"] - 500) < 60 and "stage" not in count  # Laplace scale 2
            groups = query("mean(age)", by="region", epsilon=0.3)["groups"]
            assert [g["key"] for g in groups] == ["north", "south"]
            with pytest.raises(QueryRefused, match="budget exceeded"):
                query("count", epsilon=0.5)
            with pytest.raises(QueryRefused, match="epsilon"):
                query("count", epsilon=-1)
            with pytest.raises(QueryRefused, match="too many connections"):  # query() holds the only one allowed
                BrokerClient(str(folder / "broker.sock")).ask({"expression": "count", "epsilon": 0.1})
            assert query("count", epsilon=0.2)["value"] is not None  # its connection is reused
        assert [entry["reply"]["ok"] for entry in broker.answered] == [True, True, False, True]
        assert ledger.budget(record.dataset_id, "ana").spent == pytest.approx(1.0)
    finally:
        ledger.close()
        state.close()


def test_paths_come_from_the_environment_and_refuse_separators(tmp_path, monkeypatch):
    with pytest.raises(JaneDoeInputError, match="JANEDOE_DATA_DIR"):
        data_path("people")
    monkeypatch.setenv("JANEDOE_DATA_DIR", str(tmp_path / "data"))
    monkeypatch.setenv("JANEDOE_OUTPUT_DIR", str(tmp_path / "out"))
    assert data_path("people") == tmp_path / "data" / "people.parquet"
    assert output_path("counts.csv") == tmp_path / "out" / "counts.csv"
    for name in ("../people", "a/b", "/etc/passwd", "..", ".", "", "a\\b", "x\0y"):
        with pytest.raises(JaneDoeInputError):
            output_path(name)
        with pytest.raises(JaneDoeInputError):
            data_path(name)


def test_importing_the_client_imports_no_numpy_or_pyarrow():
    code = ("import sys, janedoe.job_client; "
            "print(sorted({m.split('.')[0] for m in sys.modules} & {'numpy', 'pyarrow', 'pandas', 'yaml'}))")
    result = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, check=True,
                            env={**os.environ, "PYTHONPATH": os.pathsep.join(sys.path)})
    assert result.stdout.strip() == "[]"
