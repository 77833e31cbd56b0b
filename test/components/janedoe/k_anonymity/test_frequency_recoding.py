"""Global recoding decided on the class frequency table (what the Spark engine counts) is the record-level run's."""

import numpy as np
import pyarrow as pa
import pytest
from janedoe.errors import JaneDoeInputError
from janedoe.k_anonymity import (
    AnonymizationConfig,
    anonymize,
    class_frequencies,
    frequency_columns,
    measure,
    measure_frequencies,
    read_hierarchy_csv,
    recode_frequencies,
)
from janedoe.k_anonymity.global_recoding import ClassKeyer

QIS = ["age", "sex", "race", "education"]


def without_timings(report):
    report = {key: value for key, value in report.items() if key not in ("seconds", "row_order")}
    report["search"] = {key: value for key, value in report["search"].items() if key != "search_seconds"}
    return report


def rows(table, names):
    return sorted(zip(*[table.column(name).to_pylist() for name in names], strict=True), key=repr)


@pytest.mark.parametrize(
    "models",
    [
        {"sensitive": ["salary-class"], "l": 2, "t": 0.3},
        {"sensitive": ["occupation"], "l": 3, "l_variant": "entropy", "metric": "entropy"},
        {"sensitive": ["salary-class", "occupation"], "metric": "discernibility"},
    ],
)
def test_frequency_table_gives_the_record_level_result(adult, adult_hierarchy_path, models):
    hierarchies = {name: read_hierarchy_csv(adult_hierarchy_path(name)) for name in QIS}
    config = AnonymizationConfig(QIS, 5, hierarchies=hierarchies, max_suppression=0.05, **models)
    local = anonymize(adult, config)
    frequencies = class_frequencies(adult, frequency_columns(QIS, config.sensitive))
    assert frequencies.num_rows < adult.num_rows / 2  # the driver gets the small table, not the records
    decided = recode_frequencies(frequencies.take(np.arange(frequencies.num_rows)[::-1]), config)
    expected, actual = without_timings(local.report), without_timings(decided.report)
    expected_utility, actual_utility = expected.pop("utility"), actual.pop("utility")
    assert actual == expected
    per_attribute = actual_utility.pop("per_attribute")
    assert actual_utility == pytest.approx({k: v for k, v in expected_utility.items() if k != "per_attribute"})
    for name, values in per_attribute.items():
        assert values == pytest.approx(expected_utility["per_attribute"][name])
    # the plan recodes the records batch by batch into the rows the record-level run outputs
    batches = [decided.recoding.apply(pa.Table.from_batches([batch])) for batch in adult.to_batches(max_chunksize=4000)]
    assert rows(pa.concat_tables(batches), adult.column_names) == rows(local.table, adult.column_names)


def test_measure_is_measure_frequencies_of_the_class_table(adult):
    qis, sensitive = ["sex", "race", "marital-status"], ["age", "occupation"]
    frequencies = class_frequencies(adult, frequency_columns(qis, sensitive))
    shuffled = frequencies.take(np.random.default_rng(3).permutation(frequencies.num_rows))
    assert measure_frequencies(shuffled, qis, sensitive, 5) == measure(adult, qis, sensitive, 5)


def test_class_keys_survive_a_radix_overflow():
    rng = np.random.default_rng(9)
    columns = [rng.integers(0, 1 << 20, 500) for _ in range(4)]  # 2^80 possible keys: re-ranked after 3 columns
    keyer, keys = ClassKeyer.fit(columns, [1 << 20] * 4)
    assert any(prefix is not None for prefix in keyer.prefixes)
    tuples = list(zip(*columns, strict=True))
    assert len(set(keys.tolist())) == len(set(tuples))
    subset = np.arange(100, 160)
    assert np.array_equal(keyer.keys([column[subset] for column in columns]), keys[subset])
    with pytest.raises(JaneDoeInputError, match="changed"):
        keyer.keys([np.array([column[0] + 1]) % (1 << 20) for column in columns])


def test_mondrian_needs_the_records(adult):
    config = AnonymizationConfig(["age", "sex"], 5, method="mondrian")
    with pytest.raises(JaneDoeInputError, match="mondrian"):
        recode_frequencies(class_frequencies(adult, ["age", "sex"]), config)
