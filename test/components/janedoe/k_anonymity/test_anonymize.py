import collections
import pathlib

import numpy as np
import pyarrow as pa
import pytest
from janedoe.errors import JaneDoeInputError
from janedoe.k_anonymity import AnonymizationConfig, anonymize, anonymize_with_policy, mask_right_hierarchy
from janedoe.policy import parse_policy

ROOT = pathlib.Path(__file__).parents[4]
QIS9 = ["sex", "age", "race", "marital-status", "education", "native-country", "workclass", "occupation",
        "salary-class"]


def rows_of(table, qis):
    return list(zip(*[table.column(name).to_pylist() for name in qis], strict=True))


def test_demo_policy_on_adult(adult, reference):
    from janedoe.policy import load_policy

    policy_path = ROOT / "data" / "demo" / "adult_kanon_policy.yaml"
    result = anonymize_with_policy(load_policy(policy_path), "adult", adult, policy_path)
    assert reference.k_of(rows_of(result.table, QIS9)) >= 5
    suppressed = adult.num_rows - result.table.num_rows
    assert suppressed <= int(0.05 * adult.num_rows)
    report = result.report
    assert report["search"]["proven_optimal"] is True and report["utility"]["suppressed_records"] == suppressed
    assert report["before"]["k"] == 1 and report["after"]["k"] >= 5
    assert report["after"]["risk"]["prosecutor"]["max"] <= 1 / 5


def many_digit_columns(columns, rows, seed):
    rng = np.random.default_rng(seed)
    return pa.table({f"d{i}": [f"{v:03d}" for v in rng.integers(0, 1000, rows)] for i in range(columns)})


def test_heuristic_mode_on_a_lattice_too_large_to_enumerate(reference):
    table = many_digit_columns(14, 300, seed=5)  # 4 levels each: 4^14 nodes
    qis = table.column_names
    hierarchies = {name: mask_right_hierarchy(table.column(name).to_numpy(zero_copy_only=False), 1) for name in qis}
    with pytest.raises(JaneDoeInputError, match="heuristic"):
        anonymize(table, AnonymizationConfig(qis, 3, hierarchies=hierarchies, method="optimal"))
    result = anonymize(
        table, AnonymizationConfig(qis, 3, hierarchies=hierarchies, method="heuristic", max_suppression=0.05,
                                   time_limit_seconds=5)
    )
    assert reference.k_of(rows_of(result.table, qis)) >= 3
    assert table.num_rows - result.table.num_rows <= 15
    assert result.report["search"]["proven_optimal"] is False


def test_heuristic_with_time_limit_still_anonymous(adult, adult_hierarchy_path, reference):
    from janedoe.k_anonymity import read_hierarchy_csv

    hierarchies = {name: read_hierarchy_csv(adult_hierarchy_path(name)) for name in QIS9}
    config = AnonymizationConfig(QIS9, 5, hierarchies=hierarchies, max_suppression=0.05, method="heuristic",
                                 time_limit_seconds=0.01)
    result = anonymize(adult, config)
    assert reference.k_of(rows_of(result.table, QIS9)) >= 5
    assert adult.num_rows - result.table.num_rows <= int(0.05 * adult.num_rows)


def test_lattice_search_with_t_closeness(adult, adult_hierarchy_path, reference):
    from janedoe.k_anonymity import read_hierarchy_csv

    qis = ["age", "education", "marital-status"]
    hierarchies = {name: read_hierarchy_csv(adult_hierarchy_path(name)) for name in qis}
    config = AnonymizationConfig(qis, 5, hierarchies=hierarchies, sensitive=["salary-class"], t=0.15,
                                 max_suppression=0.02)
    result = anonymize(adult, config)
    rows = rows_of(result.table, qis)
    assert reference.k_of(rows) >= 5
    assert reference.equal_t(rows, result.table.column("salary-class").to_pylist()) <= 0.15 + 1e-9
    assert adult.num_rows - result.table.num_rows <= int(0.02 * adult.num_rows)


POLICY = """
version: 1
tables:
  people:
    columns:
      zip: {role: quasi_identifier, hierarchy: {mask_right: 1}}
      age: {role: quasi_identifier, hierarchy: {interval: 10}}
      pet: {role: quasi_identifier, hierarchy: {groups: [{animal: [cat, dog], plant: [oak]}]}}
      name: {role: identifying, mask: NAME_RULE}
      illness: {role: sensitive}
    k_anonymity: {k: 3, l: 2, max_suppression: 0.1, method: METHOD}
"""


def people(rows=90, seed=2):
    rng = np.random.default_rng(seed)
    return pa.table({
        "zip": [f"13{v:02d}" for v in rng.integers(0, 30, rows)],
        "age": rng.integers(18, 80, rows),
        "pet": rng.choice(["cat", "dog", "oak"], rows).tolist(),
        "name": [f"n{i}" for i in range(rows)],
        "illness": rng.choice(["flu", "cold", "none"], rows).tolist(),
    })


@pytest.mark.parametrize("method", ["optimal", "mondrian"])
def test_policy_rules_build_hierarchies_and_mask_identifiers(method, reference, tmp_path):
    policy = parse_policy(POLICY.replace("NAME_RULE", "null").replace("METHOD", method))
    table = people()
    result = anonymize_with_policy(policy, "people", table, tmp_path / "policy.yaml")
    qis = ["zip", "age", "pet"]
    rows = rows_of(result.table, qis)
    assert reference.k_of(rows) >= 3
    assert reference.distinct_l(rows, result.table.column("illness").to_pylist()) >= 2
    assert set(result.table.column("name").to_pylist()) == {None}
    assert set(result.table.column("pet").to_pylist()) <= {"cat", "dog", "oak", "animal", "plant", "*"}


def test_policy_refuses_unmasked_identifying_column(tmp_path):
    policy = parse_policy(POLICY.replace("NAME_RULE", "keep").replace("METHOD", "optimal"))
    with pytest.raises(JaneDoeInputError, match="identifying") as caught:
        anonymize_with_policy(policy, "people", people(), tmp_path / "policy.yaml")
    assert "columns.name" in str(caught.value)


def test_policy_section_validation():
    with pytest.raises(JaneDoeInputError):
        parse_policy(POLICY.replace("NAME_RULE", "null").replace("METHOD", "fastest"))
    text = POLICY.replace("NAME_RULE", "null").replace("METHOD", "optimal").replace("l: 2", "l: 2.5")
    with pytest.raises(JaneDoeInputError):
        parse_policy(text)


def test_report_is_json_and_consistent(adult, adult_hierarchy_path):
    import json

    from janedoe.k_anonymity import read_hierarchy_csv

    qis = ["age", "sex", "race"]
    hierarchies = {name: read_hierarchy_csv(adult_hierarchy_path(name)) for name in qis}
    result = anonymize(adult, AnonymizationConfig(qis, 10, hierarchies=hierarchies, max_suppression=0.01))
    report = json.loads(json.dumps(result.report))
    sizes = collections.Counter(rows_of(result.table, qis))
    utility = report["utility"]
    suppressed = utility["suppressed_records"]
    assert utility["discernibility"] == sum(s * s for s in sizes.values()) + suppressed * adult.num_rows
    assert utility["aecs"] == pytest.approx(result.table.num_rows / len(sizes))
    assert utility["classes"] == len(sizes)
    assert report["records_out"] == adult.num_rows - suppressed


@pytest.mark.parametrize(
    ("qis", "sensitive", "distance", "t"),
    [
        (["age", "sex", "race"], "education", "ordered", 0.15),  # reported 0.1546 against the kept records
        (["sex", "race", "education", "workclass"], "age", "ordered", 0.15),  # reported 0.1519
        (["age", "sex", "race", "native-country"], "salary-class", "equal", 0.1),
    ],
)
def test_reported_t_is_the_enforced_t(qis, sensitive, distance, t, adult, adult_hierarchy_path, reference):
    """The report measures t against the distribution enforcement used (the whole input, suppressed records
    included); before, it used the kept records' and reported more than the requested t after suppression."""
    from janedoe.k_anonymity import read_hierarchy_csv

    hierarchies = {name: read_hierarchy_csv(adult_hierarchy_path(name)) for name in qis}
    config = AnonymizationConfig(qis, 5, hierarchies=hierarchies, sensitive=[sensitive], t=t, t_distance=distance,
                                 max_suppression=0.05)
    result = anonymize(adult, config)
    assert result.report["utility"]["suppressed_records"] > 0  # the case where the two references differ
    achieved = result.report["achieved"]
    assert achieved["t"] <= t + 1e-12 and achieved["t_reference"] == "input"
    distance_of = reference.ordered_t if distance == "ordered" else reference.equal_t
    independent = distance_of(
        rows_of(result.table, qis), result.table.column(sensitive).to_pylist(), adult.column(sensitive).to_pylist()
    )
    assert achieved["t"] == pytest.approx(independent, abs=1e-12)
    assert result.report["after"]["sensitive"][0]["t"] == achieved["t"]


def test_a_class_matching_the_table_reports_t_zero_not_below():
    # one class with the table's own distribution 1:6:3:3, where the summation order used to give -1.1e-16
    illness = ["a"] + ["b"] * 6 + ["c"] * 3 + ["d"] * 3
    table = pa.table({"zip": ["z"] * len(illness), "illness": illness})
    result = anonymize(table, AnonymizationConfig(["zip"], 2, sensitive=["illness"], t=0.1))
    assert result.report["achieved"]["t"] == 0.0 and str(result.report["achieved"]["t"]) == "0.0"
