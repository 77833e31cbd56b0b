"""k-anonymity on Spark equals k-anonymity on one machine: the measurement, and the anonymized rows and report."""

import pathlib

import numpy as np
import pyarrow as pa
import pyarrow.compute as pc
import pyarrow.csv as pacsv
import pytest
import yaml
from janedoe.errors import JaneDoeInputError
from janedoe.k_anonymity import anonymize_with_policy, measure
from janedoe.policy import parse_policy
from janedoe.spark_engine import spark_anonymize_with_policy, spark_measure

ADULT = pathlib.Path(__file__).parents[4] / "data" / "adult"
QIS = ["age", "sex", "race", "education"]


@pytest.fixture(scope="module")
def adult():
    """The bundled Adult sample, its rows numbered, with some native-country values missing (nulls group too)."""
    table = pacsv.read_csv(ADULT / "adult.csv", parse_options=pacsv.ParseOptions(delimiter=";"))
    country = table.column("native-country").combine_chunks()
    missing = pa.array(np.arange(table.num_rows) % 97 == 0)
    table = table.set_column(table.column_names.index("native-country"), "native-country",
                             pc.if_else(missing, pa.scalar(None, pa.string()), country))
    return table.append_column("row", pa.array(np.arange(table.num_rows), pa.int64()))


@pytest.fixture(scope="module")
def adult_frame(spark, adult):
    return spark.createDataFrame(adult)


@pytest.mark.parametrize("partitions", [1, 5])
def test_spark_measure_equals_measure(adult, adult_frame, partitions):
    qis, sensitive = ["sex", "race", "marital-status", "native-country"], ["age", "occupation"]
    expected = measure(adult, qis, sensitive, 5)
    actual = spark_measure(adult_frame.repartition(partitions), qis, sensitive, 5)
    assert actual == expected  # every field, floats bit for bit
    assert actual.sensitive[0].t_distance == "ordered" and expected.k == 1 and not actual.k_met


def _policy(sensitive_mask=None, **section):
    columns = {name: {"role": "quasi_identifier", "hierarchy": f"adult_hierarchy_{name}.csv"} for name in QIS}
    columns.update({
        "salary-class": {"role": "sensitive", **(sensitive_mask or {})},
        "occupation": "null",
        "marital-status": "keep", "native-country": "keep", "workclass": "keep", "row": "keep",
    })
    document = {"version": 1, "default": "error", "tables": {"adult": {
        "columns": columns, "k_anonymity": {"k": 5, "max_suppression": 0.05, **section}}}}
    path = ADULT / "spark-kanon-policy.yaml"  # hierarchies resolve next to the policy; the file itself is not written
    return parse_policy(yaml.safe_dump(document), str(path)), path


@pytest.fixture(scope="module")
def both_runs(adult, adult_frame):
    policy, path = _policy(l=2)
    local = anonymize_with_policy(policy, "adult", adult, path)
    frame, report = spark_anonymize_with_policy(policy, "adult", adult_frame.repartition(3), path)
    return local, frame.toArrow(), report


def _rows(table, names):
    return sorted(zip(*[table.column(name).to_pylist() for name in names], strict=True), key=repr)


def test_spark_anonymize_gives_the_local_rows_and_report(both_runs):
    local, output, report = both_runs
    names = local.table.column_names
    assert output.column_names == names
    assert _rows(output, names) == _rows(local.table, names)
    expected, actual = dict(local.report), dict(report)
    for item in (expected, actual):
        item.pop("seconds"), item.pop("row_order")
        item["search"] = {key: value for key, value in item["search"].items() if key != "search_seconds"}
    expected_utility, actual_utility = expected.pop("utility"), actual.pop("utility")
    assert actual == expected  # node, proven optimum, before/after (k, l, t, risks), records in/out, masking rules
    assert actual["search"]["proven_optimal"] is True and set(actual["search"]["node"]) == set(QIS)
    assert actual_utility["suppressed_records"] == expected_utility["suppressed_records"] > 0
    assert actual_utility["loss"] == pytest.approx(expected_utility["loss"], rel=1e-12)
    assert report["records_out"] == output.num_rows < report["records_in"]


def test_k_and_l_are_reached_on_the_spark_output(both_runs):
    _, output, report = both_runs
    measured = measure(output, QIS, ["salary-class"], 5)
    assert measured.k >= 5 and measured.k == report["achieved"]["k"]
    assert measured.sensitive[0].distinct_l >= 2
    assert output.column("occupation").null_count == output.num_rows  # the policy's masking ran first


def test_spark_output_order_does_not_follow_the_input(both_runs):
    """An attacker who knows the input order reads it off consecutive output rows: count the ascents."""
    _, output, _ = both_runs
    row = output.column("row").to_numpy()
    n = len(row)
    ascents = int((np.diff(row) > 0).sum())
    # a random order has (n-1)/2 ascents, variance (n+1)/12; a partition in input order has almost n
    assert abs(ascents - (n - 1) / 2) < 5 * np.sqrt((n + 1) / 12)


def test_mondrian_and_fresh_sensitive_masks_are_refused_before_any_job(adult_frame):
    policy, path = _policy(method="mondrian")
    with pytest.raises(JaneDoeInputError, match="mondrian.*not available on Spark") as error:
        spark_anonymize_with_policy(policy, "adult", adult_frame, path)
    assert "k_anonymity" in str(error.value.where)
    policy, path = _policy({"mask": "random_in", "values": ["<=50K", ">50K"], "fresh": True}, l=2)
    with pytest.raises(JaneDoeInputError, match="fresh rule"):
        spark_anonymize_with_policy(policy, "adult", adult_frame, path)
