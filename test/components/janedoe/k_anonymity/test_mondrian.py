import numpy as np
import pyarrow as pa
import pytest
from janedoe.errors import JaneDoeInputError
from janedoe.k_anonymity import AnonymizationConfig, anonymize, read_hierarchy_csv

QIS8 = ["sex", "age", "race", "marital-status", "education", "native-country", "workclass", "occupation"]


def rows_of(table, qis):
    return list(zip(*[table.column(name).to_pylist() for name in qis], strict=True))


def ancestors(hierarchy):
    """leaf -> set of labels it generalizes to (itself included)."""
    return {row[0]: set(row) for row in hierarchy.labels}


def covers(label, value):
    if label.startswith("["):
        low, high = label.strip("[]").split("-")
        return float(low) <= value <= float(high)
    return float(label) == value


@pytest.mark.parametrize("k", [2, 5, 10])
def test_mondrian_on_adult_is_k_anonymous_and_truthful(k, adult, adult_hierarchy_path, reference):
    hierarchies = {name: read_hierarchy_csv(adult_hierarchy_path(name)) for name in QIS8}
    result = anonymize(reference.with_row_ids(adult), AnonymizationConfig(QIS8, k, hierarchies=hierarchies,
                                                                          method="mondrian"))
    output = reference.in_input_order(result.table)
    assert output.num_rows == adult.num_rows
    assert reference.k_of(rows_of(output, QIS8)) >= k
    assert result.report["achieved"]["k"] >= k
    ages = adult.column("age").to_pylist()
    assert all(covers(label, age) for label, age in zip(output.column("age").to_pylist(), ages, strict=True))
    for name in QIS8:
        if name == "age":
            continue
        allowed = ancestors(hierarchies[name])
        originals = adult.column(name).to_pylist()
        assert all(
            label in allowed[value] for label, value in zip(output.column(name).to_pylist(), originals, strict=True)
        )
    assert output.column("salary-class").to_pylist() == adult.column("salary-class").to_pylist()
    sizes = reference.classes(rows_of(output, QIS8))
    assert result.report["utility"]["discernibility"] == sum(s * s for s in sizes.values())


def test_mondrian_splits_numbers_without_hierarchies(reference):
    rng = np.random.default_rng(3)
    table = pa.table(
        {"x": rng.integers(0, 1000, 2000), "y": rng.normal(size=2000), "z": rng.choice(["a", "b", "c"], 2000)}
    )
    result = anonymize(reference.with_row_ids(table), AnonymizationConfig(["x", "y", "z"], 7, method="mondrian"))
    output = reference.in_input_order(result.table)
    rows = rows_of(output, ["x", "y", "z"])
    assert reference.k_of(rows) >= 7
    assert len(reference.classes(rows)) > 2000 // 7 // 4  # it really partitioned, not one big class
    for label, value in zip(output.column("z").to_pylist(), table.column("z").to_pylist(), strict=True):
        assert label == value or (label.startswith("{") and value in label.strip("{}").split(","))


@pytest.mark.parametrize(("l_value", "variant"), [(2, "distinct"), (1.5, "entropy"), (2, "recursive")])
def test_mondrian_with_l_diversity(l_value, variant, adult, adult_hierarchy_path, reference):
    qis = ["age", "sex", "race", "education"]
    hierarchies = {name: read_hierarchy_csv(adult_hierarchy_path(name)) for name in qis}
    config = AnonymizationConfig(
        qis, 4, hierarchies=hierarchies, sensitive=["salary-class"], l=l_value, l_variant=variant, c=4.0,
        method="mondrian",
    )
    result = anonymize(adult, config)
    rows = rows_of(result.table, qis)
    salary = result.table.column("salary-class").to_pylist()
    assert reference.k_of(rows) >= 4
    if variant == "distinct":
        assert reference.distinct_l(rows, salary) >= l_value
    elif variant == "entropy":
        assert reference.entropy_l(rows, salary) >= l_value - 1e-9
    else:
        assert reference.recursive_l(rows, salary, 4.0) >= l_value


def test_impossible_requirement_is_refused(adult):
    # salary-class is 75/25 over the whole table: no partition reaches entropy l = 2
    config = AnonymizationConfig(["age"], 4, sensitive=["salary-class"], l=2, l_variant="entropy", method="mondrian")
    with pytest.raises(JaneDoeInputError, match="whole table"):
        anonymize(adult, config)


def test_mondrian_with_t_closeness(reference):
    rng = np.random.default_rng(9)
    table = pa.table({"age": rng.integers(18, 90, 3000), "income": rng.integers(0, 20, 3000)})
    result = anonymize(table, AnonymizationConfig(["age"], 5, sensitive=["income"], t=0.2, method="mondrian"))
    rows = rows_of(result.table, ["age"])
    assert reference.k_of(rows) >= 5
    assert reference.ordered_t(rows, result.table.column("income").to_pylist()) <= 0.2 + 1e-9
    assert len(reference.classes(rows)) > 1
