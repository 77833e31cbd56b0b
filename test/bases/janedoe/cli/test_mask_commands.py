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


LONG_SECRET = "a cli test secret of 32 bytes ok"
PEOPLE_POLICY = """\
version: 1
tables:
  people:
    columns:
      id: keep
      name: {mask: pseudonymize, kind: name}
      city: hash
      email: partial_email
"""
PEOPLE = [("1", "Jürgen Müller", "Zürich", "jm@example.com"), ("2", "Zoë Ødegård", "Tromsø", "zo@example.com"),
          ("3", "François Lefèvre", "Besançon", "fl@example.com"), ("4", "Plain Name", "Ulm", "pn@example.com")]


def _people(tmp_path, name: str, encoding: str, policy_extra: str = "") -> tuple[Path, Path]:
    path = tmp_path / name
    path.write_bytes(("id,name,city,email\n" + "".join(",".join(row) + "\n" for row in PEOPLE)).encode(encoding))
    policy = tmp_path / f"{name}.yaml"
    policy.write_text(PEOPLE_POLICY + policy_extra)
    return path, policy


def test_latin1_masks_exactly_like_the_same_names_in_utf8(tmp_path):
    utf8, policy = _people(tmp_path, "people.csv", "utf-8")
    latin1, _ = _people(tmp_path, "latin.csv", "latin-1")
    for suffix in (".csv", ".jsonl"):
        expected, got = tmp_path / f"utf8{suffix}", tmp_path / f"latin1{suffix}"
        assert run("mask", "-p", policy, utf8, expected, secret=LONG_SECRET).returncode == 0
        result = run("mask", "-p", policy, latin1, got, "-t", "people", "--encoding", "latin-1", secret=LONG_SECRET)
        assert result.returncode == 0, result.stderr
        assert got.read_bytes() == expected.read_bytes()  # pseudonyms and hashes included
        assert "Müller" not in got.read_text(encoding="utf-8") and "b'" not in got.read_text(encoding="utf-8")


def test_latin1_without_an_encoding_names_the_file_and_line(tmp_path):
    latin1, policy = _people(tmp_path, "people.csv", "latin-1")
    out = tmp_path / "out.jsonl"
    result = run("mask", "-p", policy, latin1, out, secret=LONG_SECRET)
    assert_user_error(result, f"{latin1}:2:", "not valid UTF-8", "--encoding")
    assert not out.exists()


def test_the_policy_names_the_encoding_and_the_option_overrides_it(tmp_path):
    latin1, policy = _people(tmp_path, "people.csv", "latin-1", "    encoding: latin-1\n")
    utf8, _ = _people(tmp_path / "..", "people_utf8.csv", "utf-8")
    assert run("mask", "-p", policy, latin1, tmp_path / "a.csv", secret=LONG_SECRET).returncode == 0
    result = run("mask", "-p", policy, latin1, tmp_path / "b.csv", "--encoding", "utf-8", secret=LONG_SECRET)
    assert_user_error(result, f"{latin1}:2:", "not valid UTF-8")
    assert_user_error(
        run("mask", "-p", policy, latin1, tmp_path / "c.csv", "--encoding", "klingon", secret=LONG_SECRET),
        "unknown text encoding 'klingon'",
    )
    assert utf8.exists()


def _error_path_inputs(tmp_path) -> list[tuple[list, tuple[str, ...]]]:
    """Three ways a run fails part-way, with batches in flight in the read-ahead and write-behind threads."""
    header, *rows = CUSTOMERS.read_text().splitlines(keepends=True)
    bad_value = tmp_path / "customers.csv"  # a salary that is not a number, 40,000 lines in
    late = "99999,X Y,x@y.com,1,111-22-3333,1996-03-13,lots,T,,GB0,1.2.3.4\n"
    bad_value.write_text(header + "".join(rows * 20) + late)
    bad_date = tmp_path / "dates" / "customers.csv"  # a date generalize cannot read, in batch 3 of 80
    bad_date.parent.mkdir()
    odd = "99999,X Y,x@y.com,1,111-22-3333,13/03/1996,1.0,T,,GB0,1.2.3.4\n"
    bad_date.write_text(header + "".join(rows[:1200]) + odd + "".join(rows[1200:] * 20))
    directory = tmp_path / "out.parquet"
    directory.mkdir()
    return [
        (["mask", "-p", POLICY, bad_value, tmp_path / "a.parquet"], (f"{bad_value}:40002:", "salary")),
        (["mask", "-p", POLICY, bad_date, tmp_path / "b.csv", "--batch-size", "500"], ("birth_date", "dates")),
        (["mask", "-p", POLICY, CUSTOMERS, directory], (f"{directory}:", "is a directory")),
    ]


def test_failing_runs_always_exit_2_with_one_line(tmp_path):
    """A background thread still running at exit made these die with SIGABRT (exit 134) in 1-2 of 20 runs, and an
    output path that is a directory was an internal error (exit 1)."""
    for arguments, fragments in _error_path_inputs(tmp_path):
        for _ in range(6):  # 18 runs in all; the thread at exit itself is tested 12 times in test_pipelining
            assert_user_error(run(*arguments, secret=LONG_SECRET), *fragments)
    assert not list(tmp_path.glob("*.tmp")) and not list(tmp_path.glob(".*.tmp"))
