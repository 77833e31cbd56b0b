import os
import subprocess
import sys
from pathlib import Path

import pytest
from janedoe.tabular import read_table

JANEDOE = os.path.join(os.path.dirname(sys.executable), "janedoe")
ROOT = Path(__file__).resolve().parents[4]
CUSTOMERS = ROOT / "data" / "demo" / "customers.csv"
POLICY = ROOT / "data" / "demo" / "policy.yaml"
ADULT = ROOT / "data" / "adult" / "adult.csv"
ADULT_POLICY = ROOT / "data" / "demo" / "adult_policy.yaml"


def run(*args, secret: str | None = "cli test secret of 16+ bytes", cwd=None):
    env = {key: value for key, value in os.environ.items() if not key.startswith("JANEDOE_SECRET")}
    if secret is not None:
        env["JANEDOE_SECRET"] = secret
    return subprocess.run([JANEDOE, *map(str, args)], capture_output=True, text=True, env=env, cwd=cwd, timeout=120)


def assert_user_error(result, *fragments):
    assert result.returncode == 2, result.stderr
    lines = result.stderr.strip().splitlines()
    assert len(lines) == 1, result.stderr
    assert "Traceback" not in result.stderr
    for fragment in fragments:
        assert fragment in lines[0], lines[0]


def test_mask_the_demo_customers(tmp_path):
    out = tmp_path / "masked.parquet"
    result = run("mask", "--policy", POLICY, CUSTOMERS, out)
    assert result.returncode == 0, result.stderr
    assert "2,000 rows" in result.stdout
    masked, original = read_table(out), read_table(CUSTOMERS)
    assert masked.num_rows == original.num_rows
    assert masked.column("email").to_pylist()[0].count("*") == 12
    assert not set(masked.column("ssn").to_pylist()) & set(original.column("ssn").to_pylist())
    assert masked.column("notes").null_count == masked.num_rows


def test_mask_adult_with_explicit_table_and_jsonl(tmp_path):
    out = tmp_path / "adult.jsonl"
    result = run("mask", "--policy", ADULT_POLICY, ADULT, out, "--table", "adult")
    assert result.returncode == 0, result.stderr
    masked = read_table(out)
    assert masked.num_rows == read_table(ADULT).num_rows
    assert set(masked.column("age").to_pylist()) <= {f"{d}-{d + 9}" for d in range(0, 100, 10)}


def test_pseudonyms_match_another_run_with_the_same_secret(tmp_path, monkeypatch):
    from janedoe.masking import mask_file
    from janedoe.policy import load_policy

    secret = "shared secret of 16+ bytes"
    assert run("mask", "-p", POLICY, CUSTOMERS, tmp_path / "cli.csv", secret=secret).returncode == 0
    monkeypatch.setenv("JANEDOE_SECRET", secret)
    mask_file(load_policy(POLICY), CUSTOMERS, tmp_path / "here.csv")
    cli, here = read_table(tmp_path / "cli.csv"), read_table(tmp_path / "here.csv")
    for column in ("id", "name", "email", "ssn", "ip_address"):
        assert cli.column(column).equals(here.column(column)), column


@pytest.fixture
def bad_policy(tmp_path):
    def write(old: str, new: str) -> Path:
        text = POLICY.read_text()
        assert old in text
        path = tmp_path / "policy.yaml"
        path.write_text(text.replace(old, new))
        return path

    return write


def test_malformed_csv(tmp_path):
    source = tmp_path / "customers.csv"
    source.write_bytes(CUSTOMERS.read_bytes() + b"1,2\n")
    before = source.read_bytes()
    out = tmp_path / "out.csv"
    result = run("mask", "--policy", POLICY, source, out)
    assert_user_error(result, f"{source}:2002:", "malformed CSV row")
    assert not out.exists() and source.read_bytes() == before


def test_unknown_column(tmp_path, bad_policy):
    policy = bad_policy("      city:", "      town:")
    out = tmp_path / "out.csv"
    assert_user_error(run("mask", "--policy", policy, CUSTOMERS, out), "tables.customers.columns.")
    assert not out.exists()


def test_unknown_rule(tmp_path, bad_policy):
    policy = bad_policy("{mask: partial_email}", "{mask: scramble}")
    line = next(n for n, text in enumerate(policy.read_text().splitlines(), 1) if "scramble" in text)
    out = tmp_path / "out.csv"
    result = run("mask", "--policy", policy, CUSTOMERS, out)
    assert_user_error(result, f"{policy}:{line}: tables.customers.columns.email.mask: unknown rule 'scramble'")
    assert not out.exists()


def test_wrong_parameter_type(tmp_path, bad_policy):
    policy = bad_policy("ratio: 0.1", "ratio: [1]")
    out = tmp_path / "out.csv"
    assert_user_error(run("mask", "--policy", policy, CUSTOMERS, out), "tables.customers.columns.salary.ratio")
    assert not out.exists()


def test_missing_secret(tmp_path):
    out = tmp_path / "out.csv"
    result = run("mask", "--policy", POLICY, CUSTOMERS, out, secret=None)
    assert_user_error(result, "needs a secret", "JANEDOE_SECRET")
    assert not out.exists()


def test_unreadable_or_missing_input(tmp_path):
    out = tmp_path / "out.csv"
    (tmp_path / "customers.csv").mkdir()
    assert_user_error(run("mask", "--policy", POLICY, tmp_path / "customers.csv", out), "not a regular file")
    assert not out.exists()


def test_usage_error_exits_2_without_output(tmp_path):
    out = tmp_path / "out.csv"
    result = run("mask", CUSTOMERS, out)
    assert result.returncode == 2 and "--policy" in result.stderr
    assert not out.exists()


def test_repeated_runs_give_the_same_noise_so_averaging_them_gains_nothing(tmp_path):
    outputs = []
    for attempt in range(4):
        out = tmp_path / f"run{attempt}.parquet"
        assert run("mask", "--policy", ADULT_POLICY, ADULT, out, "--table", "adult").returncode == 0
        outputs.append(read_table(out))
    assert all(table.equals(outputs[0]) for table in outputs[1:])
    assert outputs[0].column("native-country") != read_table(ADULT).column("native-country")


def test_a_short_secret_is_refused_without_showing_it(tmp_path):
    result = run("mask", "--policy", POLICY, CUSTOMERS, tmp_path / "out.csv", secret="hunter2")
    assert_user_error(result, "shorter than 16 bytes", "JANEDOE_SECRET")
    assert "hunter2" not in result.stderr and not (tmp_path / "out.csv").exists()
