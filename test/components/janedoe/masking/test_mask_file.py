import hashlib
import os
from pathlib import Path

import pyarrow as pa
import pytest
from janedoe.errors import JaneDoeInputError
from janedoe.masking import load_secret, mask_file, policy_needs_secret
from janedoe.tabular import read_table, write_table_atomic

from .helpers import SECRET, parse_policy_dict

CUSTOMERS = Path(__file__).resolve().parents[4] / "data" / "demo" / "customers.csv"

DETERMINISTIC = {
    "id": {"mask": "keyed_permutation"},
    "name": {"mask": "pseudonymize", "kind": "name"},
    "email": {"mask": "partial_email"},
    "phone": {"mask": "hash"},
    "ssn": {"mask": "partial", "prefix": 0, "padding": "***-**-", "suffix": 4},
    "birth_date": {"mask": "generalize", "to": "decade"},
    "salary": {"mask": "generalize", "step": 10000},
    "city": {"mask": "pseudonymize", "kind": "city", "unique": True},
    "notes": {"mask": "regex_replace", "pattern": "[0-9]", "replacement": "#"},
    "iban": {"mask": "constant", "value": "XX00"},
    "ip_address": {"mask": "null"},
}


def _policy(columns: dict, table: str = "customers"):
    return parse_policy_dict({"version": 1, "tables": {table: {"columns": columns}}})


@pytest.fixture
def secret_env(monkeypatch):
    monkeypatch.setenv("JANEDOE_SECRET", SECRET.decode())


def _digest(path: Path) -> str:
    return hashlib.sha256(path.read_bytes()).hexdigest()


@pytest.mark.parametrize("suffix", [".csv", ".parquet", ".jsonl"])
def test_streaming_in_small_batches_equals_one_batch(tmp_path, secret_env, suffix):
    policy = _policy(DETERMINISTIC)
    small = mask_file(policy, CUSTOMERS, tmp_path / f"small{suffix}", batch_size=97, seed=1)
    whole = mask_file(policy, CUSTOMERS, tmp_path / f"whole{suffix}", batch_size=1_000_000, seed=2)
    assert small.batches > 20 and whole.batches == 1
    assert read_table(tmp_path / f"small{suffix}").equals(read_table(tmp_path / f"whole{suffix}"))


def test_masked_file_hides_personal_columns(tmp_path, secret_env):
    policy = _policy(DETERMINISTIC)
    report = mask_file(policy, CUSTOMERS, tmp_path / "out.parquet")
    original = read_table(CUSTOMERS)
    masked = read_table(tmp_path / "out.parquet")
    assert report.rows == original.num_rows == masked.num_rows
    for column in ("email", "phone", "ssn", "birth_date", "iban", "ip_address"):
        assert not set(masked.column(column).to_pylist()) & set(original.column(column).to_pylist()), column
    # pseudonyms are realistic, so one may be another customer's real name; never the row's own
    for column in ("name", "city"):
        pairs = zip(masked.column(column).to_pylist(), original.column(column).to_pylist(), strict=True)
        assert all(m != o for m, o in pairs), column
    assert len(set(masked.column("id").to_pylist())) == original.num_rows
    assert sorted(masked.column("id").to_pylist()) != masked.column("id").to_pylist()


def test_input_can_be_parquet_and_jsonl(tmp_path, secret_env):
    policy = _policy(DETERMINISTIC)
    original = read_table(CUSTOMERS)
    write_table_atomic(original, tmp_path / "customers.parquet")
    write_table_atomic(original, tmp_path / "customers.jsonl")
    mask_file(policy, CUSTOMERS, tmp_path / "a.parquet")
    mask_file(policy, tmp_path / "customers.parquet", tmp_path / "b.parquet", batch_size=333)
    mask_file(policy, tmp_path / "customers.jsonl", tmp_path / "c.parquet", batch_size=333)
    expected = read_table(tmp_path / "a.parquet")
    assert read_table(tmp_path / "b.parquet").equals(expected)
    assert read_table(tmp_path / "c.parquet").to_pylist() == expected.to_pylist()


def test_long_and_wide_files(tmp_path, secret_env):
    rows = 100_000  # whole digit classes (0-99999), which keyed_permutation maps onto themselves
    long = pa.table({"n": pa.array(range(rows)), "t": pa.array([f"v{i % 977}" for i in range(rows)])})
    write_table_atomic(long, tmp_path / "long.csv")
    policy = _policy({"n": {"mask": "keyed_permutation"}, "t": {"mask": "hash"}}, table="long")
    report = mask_file(policy, tmp_path / "long.csv", tmp_path / "long-out.parquet", batch_size=10_000)
    out = read_table(tmp_path / "long-out.parquet")
    assert report.rows == rows and sorted(out.column("n").to_pylist()) == list(range(rows))
    assert len(set(out.column("t").to_pylist())) == 977
    wide = pa.table({f"c{i}": pa.array([f"x{i}", None, "y"]) for i in range(250)})
    write_table_atomic(wide, tmp_path / "wide.csv")
    columns = {f"c{i}": {"mask": "partial", "prefix": 1, "padding": "#", "suffix": 0} for i in range(250)}
    mask_file(_policy(columns, table="wide"), tmp_path / "wide.csv", tmp_path / "wide-out.csv")
    out = read_table(tmp_path / "wide-out.csv")
    assert out.num_columns == 250 and out.column("c7").to_pylist() == ["x#", None, "#"]  # too short to show a prefix


def test_empty_input_gives_empty_output(tmp_path, secret_env):
    (tmp_path / "customers.csv").write_text(",".join(DETERMINISTIC) + "\n")
    report = mask_file(_policy(DETERMINISTIC), tmp_path / "customers.csv", tmp_path / "out.csv")
    assert report.rows == 0
    assert read_table(tmp_path / "out.csv").column_names == list(DETERMINISTIC)


def test_failures_leave_no_output_and_the_input_untouched(tmp_path, monkeypatch):
    source = tmp_path / "customers.csv"
    source.write_bytes(CUSTOMERS.read_bytes() + b"1,2,3\n")
    before = _digest(source)
    out = tmp_path / "out.csv"
    monkeypatch.setenv("JANEDOE_SECRET", "k")
    with pytest.raises(JaneDoeInputError, match=r"customers\.csv:2002: malformed CSV row"):
        mask_file(_policy(DETERMINISTIC), source, out, batch_size=100)
    assert not out.exists() and _digest(source) == before
    assert sorted(os.listdir(tmp_path)) == ["customers.csv"]


def test_missing_secret_fails_before_reading(tmp_path, monkeypatch):
    monkeypatch.delenv("JANEDOE_SECRET", raising=False)
    monkeypatch.delenv("JANEDOE_SECRET_FILE", raising=False)
    unreadable = tmp_path / "customers.csv"
    unreadable.write_text("not,a\nvalid")
    with pytest.raises(JaneDoeInputError, match="needs a secret"):
        mask_file(_policy(DETERMINISTIC), unreadable, tmp_path / "out.csv")
    assert not (tmp_path / "out.csv").exists()


def test_output_must_not_be_the_input(tmp_path, secret_env):
    copy = tmp_path / "customers.csv"
    copy.write_bytes(CUSTOMERS.read_bytes())
    with pytest.raises(JaneDoeInputError, match="must not be the input"):
        mask_file(_policy(DETERMINISTIC), copy, copy)
    assert copy.read_bytes() == CUSTOMERS.read_bytes()


def test_secret_from_env_or_file(tmp_path, monkeypatch):
    policy = parse_policy_dict({"version": 1, "secret_env": "MY_KEY", "tables": {"t": {"columns": {}}}})
    monkeypatch.delenv("MY_KEY", raising=False)
    monkeypatch.delenv("MY_KEY_FILE", raising=False)
    assert load_secret(policy) is None
    (tmp_path / "key").write_text("from-file\n")
    monkeypatch.setenv("MY_KEY_FILE", str(tmp_path / "key"))
    assert load_secret(policy) == b"from-file"
    monkeypatch.setenv("MY_KEY", "from-env")
    assert load_secret(policy) == b"from-env"
    monkeypatch.delenv("MY_KEY")
    monkeypatch.setenv("MY_KEY_FILE", str(tmp_path / "missing"))
    with pytest.raises(JaneDoeInputError, match="MY_KEY_FILE") as error:
        load_secret(policy)
    assert "from-file" not in str(error.value)


def test_policy_needs_secret_looks_at_rules_and_roles():
    plain = _policy({"email": {"mask": "partial_email"}})
    assert not policy_needs_secret(plain, "customers")
    assert policy_needs_secret(_policy({"email": {"mask": "hash"}}), "customers")
    with_role = parse_policy_dict({
        "version": 1,
        "tables": {"customers": {"columns": {"email": {"mask": "partial_email"}}}},
        "roles": {"support": {"tables": {"customers": {"email": {"mask": "pseudonymize", "kind": "email"}}}}},
    })
    assert policy_needs_secret(with_role, "customers") and policy_needs_secret(with_role)


def test_progress_is_reported_per_batch(tmp_path, secret_env):
    seen = []
    mask_file(_policy(DETERMINISTIC), CUSTOMERS, tmp_path / "o.csv", batch_size=500,
              progress=lambda rows, total: seen.append(rows))
    assert seen == [500, 1000, 1500, 2000, 2500, 3000, 3500, 4000]  # unique city: a first pass, then the masking
