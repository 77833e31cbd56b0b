"""The optimal search must return the brute-force optimum (computed the textbook way in `independent.py`)."""

import itertools

import numpy as np
import pyarrow as pa
import pytest
from janedoe.k_anonymity import AnonymizationConfig, anonymize, hierarchy_from_rows, read_hierarchy_csv

ZIP_ROWS = [
    ["13053", "1305*", "130**", "*"],
    ["13068", "1306*", "130**", "*"],
    ["13067", "1306*", "130**", "*"],
    ["14850", "1485*", "148**", "*"],
    ["14853", "1485*", "148**", "*"],
]
AGE_ROWS = [[str(a), f"{a // 10 * 10}-{a // 10 * 10 + 9}", "<40" if a < 40 else ">=40", "*"] for a in range(20, 60)]
NATION_ROWS = [["US", "America", "*"], ["CA", "America", "*"], ["IN", "Asia", "*"], ["JP", "Asia", "*"],
               ["RU", "Europe", "*"]]
DISEASES = ["flu", "cold", "hiv", "cancer"]


def hand_made_table(seed, rows):
    rng = np.random.default_rng(seed)
    return pa.table(
        {
            "zip": rng.choice([r[0] for r in ZIP_ROWS], rows).tolist(),
            "age": rng.integers(20, 60, rows),
            "nation": rng.choice([r[0] for r in NATION_ROWS], rows, p=[0.5, 0.1, 0.2, 0.15, 0.05]).tolist(),
            "disease": rng.choice(DISEASES, rows, p=[0.5, 0.3, 0.1, 0.1]).tolist(),
        }
    )


def hierarchies():
    return {
        "zip": hierarchy_from_rows([list(r) for r in ZIP_ROWS], "zip.csv"),
        "age": hierarchy_from_rows([list(r) for r in AGE_ROWS], "age.csv"),
        "nation": hierarchy_from_rows([list(r) for r in NATION_ROWS], "nation.csv"),
    }


def records_of(table, qis):
    return list(zip(*[[str(v) for v in table.column(name).to_pylist()] for name in qis], strict=True))


def check_optimum(result, brute, qis):
    best = min(brute.values())
    node = tuple(result.report["search"]["node"][name] for name in qis)
    assert result.report["search"]["metric_value"] == pytest.approx(best, rel=1e-9)
    assert node in brute and brute[node] == pytest.approx(best, rel=1e-9)
    assert result.report["search"]["proven_optimal"] is True


@pytest.mark.parametrize(
    ("seed", "rows", "k", "suppression", "metric"),
    [
        (1, 60, 3, 0.0, "loss"),
        (2, 80, 4, 0.05, "loss"),
        (3, 120, 5, 0.1, "loss"),
        (4, 80, 3, 0.05, "discernibility"),
        (5, 120, 6, 0.1, "discernibility"),
        (6, 80, 3, 0.05, "entropy"),
        (7, 150, 4, 0.02, "entropy"),
    ],
)
def test_search_returns_brute_force_optimum(seed, rows, k, suppression, metric, reference):
    table = hand_made_table(seed, rows)
    qis = ["zip", "age", "nation"]
    config = AnonymizationConfig(
        qis, k, hierarchies=hierarchies(), max_suppression=suppression, method="optimal", metric=metric
    )
    result = anonymize(table, config)
    limit = int(suppression * rows + 1e-9)
    brute = reference.brute_force_optimum(
        records_of(table, qis), [ZIP_ROWS, AGE_ROWS, NATION_ROWS], k, limit, metric
    )
    check_optimum(result, brute, qis)
    output_rows = records_of(result.table, qis)
    assert reference.k_of(output_rows) >= k
    assert rows - result.table.num_rows <= limit
    if metric == "loss":
        assert result.report["utility"]["loss"] == pytest.approx(min(brute.values()))


@pytest.mark.parametrize("seed", [11, 12])
def test_search_with_distinct_l_diversity_matches_brute_force(seed, reference):
    table = hand_made_table(seed, 100)
    qis = ["zip", "age", "nation"]
    config = AnonymizationConfig(
        qis, 3, hierarchies=hierarchies(), sensitive=["disease"], l=2, max_suppression=0.05, metric="loss"
    )
    result = anonymize(table, config)
    brute = reference.brute_force_optimum(
        records_of(table, qis), [ZIP_ROWS, AGE_ROWS, NATION_ROWS], 3, 5, "loss",
        sensitive=table.column("disease").to_pylist(), l=2,
    )
    check_optimum(result, brute, qis)
    output_rows = records_of(result.table, qis)
    assert reference.k_of(output_rows) >= 3
    assert reference.distinct_l(output_rows, result.table.column("disease").to_pylist()) >= 2


def test_output_values_are_the_node_s_hierarchy_labels(reference):
    table = hand_made_table(21, 100)
    qis = ["zip", "age", "nation"]
    config = AnonymizationConfig(qis, 4, hierarchies=hierarchies(), max_suppression=0.05)
    result = anonymize(reference.with_row_ids(table), config)
    output = reference.in_input_order(result.table)
    node = result.report["search"]["node"]
    kept = result.generalization.suppressed
    for name, rows in zip(qis, [ZIP_ROWS, AGE_ROWS, NATION_ROWS], strict=True):
        mapping = {r[0]: r[node[name]] for r in rows}
        expected = [mapping[str(v)] for v, s in zip(table.column(name).to_pylist(), kept, strict=True) if not s]
        assert output.column(name).to_pylist() == expected


def test_adult_four_attributes_equals_exhaustive_search(adult, adult_hierarchy_path, reference):
    qis = ["age", "education", "marital-status", "race"]
    rows = [
        [line.split(";") for line in adult_hierarchy_path(name).read_text().splitlines() if line] for name in qis
    ]
    config = AnonymizationConfig(
        qis, 10, hierarchies={name: read_hierarchy_csv(adult_hierarchy_path(name)) for name in qis},
        max_suppression=0.02, metric="discernibility",
    )
    result = anonymize(adult, config)
    limit = int(0.02 * adult.num_rows)
    brute = reference.brute_force_optimum(records_of(adult, qis), rows, 10, limit, "discernibility")
    check_optimum(result, brute, qis)
    assert len(list(itertools.product(*[range(len(r[0])) for r in rows]))) == result.report["search"]["lattice_nodes"]


def test_adult_three_attributes_loss_equals_exhaustive_search(adult, adult_hierarchy_path, reference):
    qis = ["age", "sex", "native-country"]
    rows = [
        [line.split(";") for line in adult_hierarchy_path(name).read_text().splitlines() if line] for name in qis
    ]
    config = AnonymizationConfig(
        qis, 20, hierarchies={name: read_hierarchy_csv(adult_hierarchy_path(name)) for name in qis},
        max_suppression=0.01, metric="loss",
    )
    result = anonymize(adult, config)
    brute = reference.brute_force_optimum(records_of(adult, qis), rows, 20, int(0.01 * adult.num_rows), "loss")
    check_optimum(result, brute, qis)
    assert reference.k_of(records_of(result.table, qis)) >= 20
