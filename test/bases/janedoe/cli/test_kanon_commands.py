import collections
import csv
import json
import os
import pathlib
import subprocess
import sys

import pytest

JANEDOE = os.path.join(os.path.dirname(sys.executable), "janedoe")
ROOT = pathlib.Path(__file__).parents[4]


def run(*args, cwd=None):
    return subprocess.run([JANEDOE, *map(str, args)], capture_output=True, text=True, cwd=cwd, timeout=120)


@pytest.fixture
def people(tmp_path):
    path = tmp_path / "people.csv"
    rows = [("zip", "age", "name", "disease")]
    for i in range(40):
        rows.append((f"130{i % 4}{i % 3}", str(20 + i % 30), f"person{i}", ["flu", "cold", "hiv"][i % 3]))
    with path.open("w", newline="") as handle:
        csv.writer(handle).writerows(rows)
    return path


def write_policy(tmp_path, text):
    path = tmp_path / "policy.yaml"
    path.write_text(text)
    return path


def test_check_exit_codes_and_json(people):
    met = run("kanon", "check", people, "--qi", "zip", "--k", "2", "--json")
    assert met.returncode == 0, met.stderr
    document = json.loads(met.stdout)
    with people.open() as handle:
        zips = collections.Counter(row["zip"] for row in csv.DictReader(handle))
    assert document["k"] == min(zips.values()) and document["classes"] == len(zips)
    not_met = run("kanon", "check", people, "--qi", "zip,age", "--sensitive", "disease", "--k", "2")
    assert not_met.returncode == 3
    assert "NOT met" in not_met.stdout and "distinct l" in not_met.stdout


def test_check_unknown_column_is_one_line_exit_2(people):
    result = run("kanon", "check", people, "--qi", "zip,nope")
    assert result.returncode == 2
    assert len(result.stderr.strip().splitlines()) == 1 and "nope" in result.stderr


POLICY = """
version: 1
tables:
  people:
    columns:
      zip: {{role: quasi_identifier, hierarchy: {{mask_right: 1}}}}
      age: {{role: quasi_identifier, hierarchy: {{interval: 5}}}}
      name: {{role: identifying, mask: {name_rule}}}
      disease: {{role: sensitive}}
    k_anonymity: {{k: 4, l: 2, max_suppression: 0.1}}
"""


def test_apply_writes_output_and_report(tmp_path, people):
    policy = write_policy(tmp_path, POLICY.format(name_rule="null"))
    output = tmp_path / "out" / "people.csv"
    output.parent.mkdir()
    result = run("kanon", "apply", "--policy", policy, people, output)
    assert result.returncode == 0, result.stderr
    report = json.loads((tmp_path / "out" / "people.csv.report.json").read_text())
    with output.open() as handle:
        rows = list(csv.DictReader(handle))
    classes = collections.defaultdict(list)
    for row in rows:
        classes[(row["zip"], row["age"])].append(row["disease"])
    assert min(len(v) for v in classes.values()) >= 4
    assert min(len(set(v)) for v in classes.values()) >= 2
    assert all(row["name"] == "" for row in rows)
    assert report["records_out"] == len(rows) and 40 - len(rows) <= 4
    assert report["achieved"]["k"] >= 4 and report["parameters"]["l"] == 2
    assert sorted(p.name for p in output.parent.iterdir()) == ["people.csv", "people.csv.report.json"]


def test_apply_refuses_unmasked_identifying_column(tmp_path, people):
    policy = write_policy(tmp_path, POLICY.format(name_rule="keep"))
    output = tmp_path / "people_out.csv"
    result = run("kanon", "apply", "--policy", policy, "--table", "people", people, output)
    assert result.returncode == 2
    assert len(result.stderr.strip().splitlines()) == 1 and "identifying" in result.stderr
    assert "columns.name" in result.stderr
    assert not output.exists() and not (tmp_path / "people_out.csv.report.json").exists()


def test_apply_hierarchy_error_names_the_file(tmp_path, people):
    bad = tmp_path / "zip.csv"
    bad.write_text("13000;130**;*\n13001;*\n")
    policy = write_policy(
        tmp_path, POLICY.format(name_rule="null").replace("{mask_right: 1}", "zip.csv")
    )
    output = tmp_path / "people_out.csv"
    result = run("kanon", "apply", "--policy", policy, people, output)
    assert result.returncode == 2
    assert "zip.csv:2" in result.stderr and "ragged" in result.stderr
    assert not output.exists()


ORDER_POLICY = """
version: 1
tables:
  people:
    columns:
      row: {mask: keep}
      zip: {role: quasi_identifier, hierarchy: {mask_right: 2}}
      age: {role: quasi_identifier, hierarchy: {interval: 10}}
      disease: {role: sensitive}
    k_anonymity: {k: 5, l: 2, max_suppression: 0.05}
"""


@pytest.fixture
def numbered_people(tmp_path):
    """400 people; `row` numbers them (kept, so the test can see where each input row went)."""
    path = tmp_path / "people.csv"
    with path.open("w", newline="") as handle:
        writer = csv.writer(handle)
        writer.writerow(("row", "zip", "age", "disease"))
        for i in range(400):
            writer.writerow((i, f"13{i * 7 % 10}{i % 9}{i % 4}", 20 + i * 13 % 50, ["flu", "cold", "hiv"][i * 5 % 3]))
    return path


def apply_rows(tmp_path, people, name, *options, secret=None):
    policy = write_policy(tmp_path, ORDER_POLICY)
    output = tmp_path / f"{name}.csv"
    env = {key: value for key, value in os.environ.items() if not key.startswith("JANEDOE_SECRET")}
    if secret is not None:
        env["JANEDOE_SECRET"] = secret
    result = subprocess.run([JANEDOE, "kanon", "apply", "--policy", str(policy), str(people), str(output), *options],
                            capture_output=True, text=True, env=env, timeout=120)
    assert result.returncode == 0, result.stderr
    with output.open() as handle:
        rows = [int(row["row"]) for row in csv.DictReader(handle)]
    report = json.loads((tmp_path / f"{name}.csv.report.json").read_text())
    return rows, report, result.stderr


def in_place(first, second):
    return sum(a == b for a, b in zip(first, second, strict=True))


def test_apply_shuffles_the_rows(tmp_path, numbered_people):
    """Kept in input order, every output row would link back to its input row by position."""
    rows, report, _ = apply_rows(tmp_path, numbered_people, "out")
    assert len(rows) >= 380 and report["row_order"] == "random"
    kept_in_input_order = sorted(rows)
    assert in_place(rows, kept_in_input_order) <= 10  # about 1 for a random order


def test_seed_with_secret_reproduces_the_order_and_another_secret_does_not(tmp_path, numbered_people):
    secret = "cli-row-order-secret-0123456789"
    first, report, _ = apply_rows(tmp_path, numbered_people, "first", "--seed", "7", secret=secret)
    again, _, _ = apply_rows(tmp_path, numbered_people, "again", "--seed", "7", secret=secret)
    other, _, _ = apply_rows(tmp_path, numbered_people, "other", "--seed", "7", secret=secret[::-1])
    assert report["row_order"] == "keyed" and first == again
    assert in_place(first, other) <= 10
    assert secret not in (tmp_path / "first.csv.report.json").read_text()


def test_seed_without_secret_says_the_order_is_not_reproducible(tmp_path, numbered_people):
    first, report, stderr = apply_rows(tmp_path, numbered_people, "first", "--seed", "7")
    again, _, _ = apply_rows(tmp_path, numbered_people, "again", "--seed", "7")
    assert report["row_order"] == "random" and "does not reproduce the row order" in stderr
    assert in_place(first, again) <= 10


def test_seeded_order_refuses_a_short_secret(tmp_path, numbered_people):
    policy = write_policy(tmp_path, ORDER_POLICY)
    env = {**os.environ, "JANEDOE_SECRET": "short-secret"}
    result = subprocess.run(
        [JANEDOE, "kanon", "apply", "--policy", str(policy), "--seed", "7", str(numbered_people),
         str(tmp_path / "out.csv")], capture_output=True, text=True, env=env, timeout=120,
    )
    assert result.returncode == 2 and len(result.stderr.strip().splitlines()) == 1
    assert "16 bytes" in result.stderr and "short-secret" not in result.stderr
    assert not (tmp_path / "out.csv").exists()
