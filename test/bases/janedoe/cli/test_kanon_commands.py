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
