"""publish_stage_one on a real state, ledger and MST synthesis: charged once, public parts only, all or nothing."""

import json

import pyarrow.parquet as pq
import pytest
import yaml
from janedoe.errors import BudgetExceededError, JaneDoeInputError
from janedoe.stage_one import STAGE_ONE_ACCOUNT, publish_stage_one, read_package

from .conftest import POLICY, PRIVATE_MARKERS

FILES = {"people.parquet", "schema.json", "public_policy.yaml", "README.txt", "package.json"}


def _spends(privacy, record):
    return privacy.ledger.spends(dataset=record.dataset_id, analyst=STAGE_ONE_ACCOUNT)


def test_a_publication_is_charged_once_and_writes_the_package(dataset, tmp_path):
    record, privacy, raw = dataset
    target = tmp_path / "packages" / record.dataset_id
    assert publish_stage_one(record, privacy, package_dir=target, rows=300, seed=1) == target
    assert {path.name for path in target.iterdir()} == FILES
    synthetic = pq.read_table(target / "people.parquet")
    assert synthetic.schema == raw.schema and synthetic.num_rows == 300
    assert set(synthetic.column("region").to_pylist()) <= {"north", "south", "east", "west"}
    schema = json.loads((target / "schema.json").read_text())
    assert [(c["name"], c["type"]) for c in schema["columns"]] == [(f.name, str(f.type)) for f in raw.schema]
    assert "SYNTHETIC" in (target / "README.txt").read_text()
    [spend] = _spends(privacy, record)
    assert (spend.epsilon, spend.delta, spend.mechanism) == (0.5, 1e-9, "mst")
    budget = privacy.ledger.budget(record.dataset_id, STAGE_ONE_ACCOUNT)
    assert budget.total == pytest.approx(0.5) and budget.remaining == pytest.approx(0.0)
    manifest = read_package(target)
    assert manifest["spend_id"] == spend.id and manifest["rows"] == 300 and set(manifest["files"]) == FILES - {
        "package.json"}

    again = publish_stage_one(record, privacy, package_dir=target, rows=50, seed=2)
    assert again == target and read_package(target) == manifest  # the same package, not a new one
    assert pq.read_table(target / "people.parquet").equals(synthetic)
    assert len(_spends(privacy, record)) == 1
    assert not [p for p in target.parent.iterdir() if p.name.startswith(f".{target.name}.") and p.is_dir()]


def test_the_public_policy_holds_no_rule_argument_condition_or_key(dataset, tmp_path):
    record, privacy, _raw = dataset
    assert all(marker in POLICY for marker in PRIVATE_MARKERS[:-1])  # the markers are really in the policy
    target = publish_stage_one(record, privacy, package_dir=tmp_path / "pkg", rows=100)
    for name in FILES - {"people.parquet"}:
        text = (target / name).read_text()
        assert not [marker for marker in PRIVATE_MARKERS if marker in text], name
    public = yaml.safe_load((target / "public_policy.yaml").read_text())
    assert public["columns"]["age"] == {"type": "int64", "mask": "null", "bounds": [18.0, 90.0], "bins": 8}
    assert public["columns"]["status"] == {"type": "string", "mask": "regex_replace",
                                           "categories": ["active", "closed"]}
    assert public["columns"]["badge"] == {"type": "string", "mask": "hash", "categories": ["B1", "B2", "B3"]}
    assert public["dp"] == {"epsilon": 1.0}
    assert public["synthetic"] == {"method": "mst", "epsilon": 0.5, "delta": 1e-9}
    assert set(public) == {"table", "columns", "dp", "synthetic"}


def test_a_table_without_a_synthetic_section_is_refused_before_any_charge(dataset, tmp_path):
    record, privacy, _raw = dataset
    policy = privacy.views.policy(record)
    policy.tables["people"].synthetic = None  # the cached policy object of this dataset
    with pytest.raises(JaneDoeInputError, match="no synthetic section"):
        publish_stage_one(record, privacy, package_dir=tmp_path / "pkg")
    assert not (tmp_path / "pkg").exists() and _spends(privacy, record) == []


def test_bad_rows_are_refused_before_any_charge(dataset, tmp_path):
    record, privacy, _raw = dataset
    for rows in (0, -5, 2.5, True):
        with pytest.raises(JaneDoeInputError, match="rows"):
            publish_stage_one(record, privacy, package_dir=tmp_path / "pkg", rows=rows)
    assert _spends(privacy, record) == []


def test_a_failure_after_the_charge_leaves_no_package_and_keeps_the_charge(dataset, tmp_path, monkeypatch):
    import janedoe.stage_one.package as package

    record, privacy, _raw = dataset

    def disk_full(*_args, **_kwargs):  # a fault injected after the charge, where a real disk could fail
        raise OSError(28, "No space left on device")

    monkeypatch.setattr(package, "write_table_atomic", disk_full)
    with pytest.raises(OSError):
        publish_stage_one(record, privacy, package_dir=tmp_path / "pkg", rows=100)
    assert [p.name for p in tmp_path.iterdir() if p.name.startswith(".pkg") and p.is_dir()] == []
    assert not (tmp_path / "pkg").exists()
    assert len(_spends(privacy, record)) == 1  # spend first, no silent refund
    monkeypatch.undo()
    with pytest.raises(BudgetExceededError, match="stage-one budget is spent"):
        publish_stage_one(record, privacy, package_dir=tmp_path / "pkg", rows=100)
    assert len(_spends(privacy, record)) == 1 and not (tmp_path / "pkg").exists()


def test_a_folder_that_is_not_a_package_is_not_overwritten(dataset, tmp_path):
    record, privacy, _raw = dataset
    (tmp_path / "pkg").mkdir()
    (tmp_path / "pkg" / "notes.txt").write_text("mine")
    with pytest.raises(JaneDoeInputError, match="not a stage-1 package"):
        publish_stage_one(record, privacy, package_dir=tmp_path / "pkg")
    assert _spends(privacy, record) == [] and (tmp_path / "pkg" / "notes.txt").read_text() == "mine"


def test_concurrent_publications_make_one_package_and_one_charge(dataset, tmp_path):
    from concurrent.futures import ThreadPoolExecutor

    record, privacy, _raw = dataset
    with ThreadPoolExecutor(3) as pool:
        results = list(pool.map(lambda seed: publish_stage_one(record, privacy, package_dir=tmp_path / "pkg",
                                                               rows=100, seed=seed), range(3)))
    assert results == [tmp_path / "pkg"] * 3
    assert len(_spends(privacy, record)) == 1
