import math

import numpy as np
import pyarrow as pa
import pytest
from janedoe.errors import JaneDoeInputError
from janedoe.k_anonymity import measure


def random_table(seed, rows=400):
    rng = np.random.default_rng(seed)
    return pa.table(
        {
            "zip": rng.choice(["100", "101", "102", "200"], rows).tolist(),
            "age": rng.integers(20, 26, rows),
            "sex": rng.choice(["F", "M"], rows).tolist(),
            "disease": rng.choice(
                ["flu", "cold", "hiv", "none", "cancer"], rows, p=[0.4, 0.3, 0.05, 0.2, 0.05]
            ).tolist(),
            "income": rng.integers(0, 12, rows),
        }
    )


@pytest.mark.parametrize("seed", [1, 2, 3])
def test_measurement_matches_plain_group_by(seed, reference):
    table = random_table(seed)
    qis = ["zip", "age", "sex"]
    rows = list(zip(*[table.column(name).to_pylist() for name in qis], strict=True))
    disease = table.column("disease").to_pylist()
    income = table.column("income").to_pylist()
    result = measure(table, qis, ["disease", "income"], k=5, recursive_c=2.0)
    sizes = reference.classes(rows)
    assert result.k == min(sizes.values())
    assert result.classes == len(sizes)
    assert result.records_below_k == sum(s for s in sizes.values() if s < 5)
    distribution = {}
    for size in sizes.values():
        distribution[size] = distribution.get(size, 0) + 1
    assert result.class_sizes == distribution
    categorical, numeric = result.sensitive
    assert categorical.t_distance == "equal" and numeric.t_distance == "ordered"
    assert categorical.distinct_l == reference.distinct_l(rows, disease)
    assert categorical.entropy_l == pytest.approx(reference.entropy_l(rows, disease))
    assert categorical.recursive_l == reference.recursive_l(rows, disease, 2.0)
    assert categorical.t == pytest.approx(reference.equal_t(rows, disease))
    assert numeric.t == pytest.approx(reference.ordered_t(rows, income))
    assert numeric.distinct_l == reference.distinct_l(rows, income)
    prosecutor = result.prosecutor
    assert prosecutor["max"] == pytest.approx(1 / min(sizes.values()))
    assert prosecutor["average"] == pytest.approx(sum(1 / sizes[r] for r in rows) / len(rows))
    assert prosecutor["records_above_threshold"] == sum(1 for r in rows if 1 / sizes[r] > 0.2)
    assert result.uniques["records"] == sum(1 for s in sizes.values() if s == 1)


def test_population_risk(reference):
    sample = random_table(7, rows=60)
    population = pa.concat_tables([sample, random_table(8, rows=600)])
    qis = ["zip", "age"]
    result = measure(sample, qis, population=population)
    sample_rows = list(zip(*[sample.column(n).to_pylist() for n in qis], strict=True))
    population_sizes = reference.classes(list(zip(*[population.column(n).to_pylist() for n in qis], strict=True)))
    sample_sizes = reference.classes(sample_rows)
    marketer = sum(sample_sizes[c] / population_sizes[c] for c in sample_sizes) / len(sample_rows)
    assert result.population["marketer"] == pytest.approx(marketer)
    assert result.population["journalist_max"] == pytest.approx(max(1 / population_sizes[c] for c in sample_sizes))
    assert result.population["journalist_average"] == pytest.approx(
        len(sample_sizes) / sum(population_sizes[c] for c in sample_sizes)
    )


def test_small_hand_made_table():
    table = pa.table({"a": ["x", "x", "x", "y", "y"], "s": ["p", "q", "p", "p", "p"]})
    result = measure(table, ["a"], "s", k=3)
    assert result.k == 2 and not result.k_met and result.records_below_k == 2
    (sensitive,) = result.sensitive
    assert sensitive.distinct_l == 1
    assert sensitive.entropy_l == pytest.approx(1.0)
    # overall 4/5 p, 1/5 q; class x (2/3 p) is 2/15 away, class y (all p) 1/5 away: t is the largest
    assert sensitive.t == pytest.approx(max(abs(2 / 3 - 4 / 5), 1 - 4 / 5))
    assert math.isclose(result.to_dict()["below_k"]["share"], 0.4)


def test_unknown_column_is_a_user_error():
    with pytest.raises(JaneDoeInputError, match="'nope'"):
        measure(pa.table({"a": [1]}), ["nope"])
