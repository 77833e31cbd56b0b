"""`janedoe-spark` end to end: in-process on the shared session for the jobs, as a real process for start-up paths."""

import os
import subprocess
import sys

import numpy as np
import pyarrow as pa
import pyarrow.dataset as ds
import pyarrow.parquet as pq
import pytest
import yaml
from janedoe.masking import mask_file
from janedoe.policy import load_policy
from janedoe.spark_cli import main

SECRET = "spark cli test secret, 32 bytes!"
ENTRY = [sys.executable, "-c", "from janedoe.spark_cli import main; main()"]


def _run(capsys, *argv) -> tuple[int, str, str]:
    old = sys.argv
    sys.argv = ["janedoe-spark", *argv]
    try:
        with pytest.raises(SystemExit) as done:
            main()
    finally:
        sys.argv = old
    out = capsys.readouterr()
    return done.value.code, out.out, out.err


@pytest.fixture
def customers(tmp_path, monkeypatch):
    monkeypatch.setenv("JANEDOE_SPARK_CLI_SECRET", SECRET)
    rows = 500
    table = pa.table({
        "id": pa.array(np.arange(rows)),
        "email": pa.array([f"c{i}@shop.test" for i in range(rows)]),
        "age": pa.array(np.random.default_rng(1).integers(18, 90, rows)),
    })
    source = tmp_path / "customers.parquet"
    pq.write_table(table, source)
    policy = tmp_path / "policy.yaml"
    policy.write_text(yaml.safe_dump({"version": 1, "secret_env": "JANEDOE_SPARK_CLI_SECRET", "tables": {
        "customers": {"columns": {"id": "keep", "email": {"mask": "pseudonymize", "kind": "email"},
                                  "age": {"mask": "noise", "ratio": 0.1}}}}}))
    return source, policy


def test_mask_writes_what_janedoe_mask_writes(spark, tmp_path, capsys, customers):
    source, policy = customers
    out = tmp_path / "masked"
    code, stdout, stderr = _run(capsys, "mask", str(source), str(out), "--policy", str(policy), "--master", "local[2]")
    assert code == 0, stderr
    assert "masked 500 rows x 3 columns of table 'customers'" in stdout
    local = tmp_path / "local.parquet"
    mask_file(load_policy(policy), source, local)
    expected = pq.read_table(local).sort_by("id")
    assert ds.dataset(str(out)).to_table().sort_by("id").equals(expected)
    assert SECRET not in stdout + stderr


def test_an_existing_output_is_kept_unless_overwrite(spark, tmp_path, capsys, customers):
    source, policy = customers
    out = tmp_path / "masked"
    assert _run(capsys, "mask", str(source), str(out), "--policy", str(policy))[0] == 0
    before = sorted(os.listdir(out))
    code, _, stderr = _run(capsys, "mask", str(source), str(out), "--policy", str(policy))
    assert code == 2 and "exists" in stderr and "Traceback" not in stderr
    assert sorted(os.listdir(out)) == before
    assert _run(capsys, "mask", str(source), str(out), "--policy", str(policy), "--overwrite")[0] == 0
    assert not [name for name in os.listdir(tmp_path) if "janedoe-" in name]  # no staging left behind


def test_bad_input_is_one_line_and_exit_2(spark, tmp_path, capsys, customers):
    source, policy = customers
    code, _, stderr = _run(capsys, "mask", str(tmp_path / "missing.parquet"), str(tmp_path / "o"), "--policy",
                           str(policy), "--table", "customers")
    assert code == 2 and len(stderr.strip().splitlines()) == 1 and "Traceback" not in stderr
    code, _, stderr = _run(capsys, "mask", str(source), str(tmp_path / "o"), "--policy", str(policy), "--table", "nope")
    assert code == 2 and "not in the policy" in stderr


def test_missing_secret_is_refused_before_spark_starts(tmp_path, customers):
    source, policy = customers
    env = {k: v for k, v in os.environ.items() if k != "JANEDOE_SPARK_CLI_SECRET"}
    done = subprocess.run([*ENTRY, "mask", str(source), str(tmp_path / "o"), "--policy", str(policy)],
                          capture_output=True, text=True, env=env, timeout=120)
    assert done.returncode == 2, done.stderr
    assert "JANEDOE_SPARK_CLI_SECRET" in done.stderr and "Traceback" not in done.stderr
    assert not (tmp_path / "o").exists()


def test_help_lists_every_area_without_importing_spark():
    done = subprocess.run([*ENTRY, "--help"], capture_output=True, text=True, timeout=60)
    assert done.returncode == 0
    for command in ("mask", "kanon", "dp", "synth"):
        assert command in done.stdout
    probe = "import sys; import janedoe.spark_cli; print(sorted(m for m in sys.modules if m.startswith('pyspark')))"
    assert subprocess.run([sys.executable, "-c", probe], capture_output=True, text=True).stdout.strip() == "[]"


ADULT = "data/adult/adult.csv"


def test_kanon_check_prints_what_janedoe_kanon_check_measures(spark, capsys):
    import json

    from janedoe.k_anonymity import measure
    from janedoe.tabular import read_table

    qi = "sex,age,race"
    code, stdout, stderr = _run(capsys, "kanon", "check", ADULT, "--qi", qi, "--sensitive", "salary-class",
                                "--delimiter", ";", "--k", "2")
    local = measure(read_table(ADULT), qi.split(","), ["salary-class"], 2).to_dict()
    assert json.loads(stdout) == json.loads(json.dumps(local))
    assert code == (0 if local["k_met"] else 3), stderr


def test_dp_query_charges_the_ledger_and_answers(spark, tmp_path, capsys):
    import json

    from janedoe.ledger import Ledger

    ledger = tmp_path / "ledger.db"
    base = ["dp", "query", "--policy", "data/demo/adult_privacy_policy.yaml", "--ledger", str(ledger), "--analyst",
            "ana", ADULT, "--delimiter", ";", "--json"]
    code, stdout, stderr = _run(capsys, *base[:9], "histogram(sex)", *base[9:], "--epsilon", "4")
    assert code == 0, stderr
    answer = json.loads(stdout)["answer"]
    counts = {group["key"]: group["value"] for group in answer["groups"]}
    assert set(counts) == {"Male", "Female"} and abs(sum(counts.values()) - 30_162) < 100
    with Ledger.open(str(ledger)) as book:
        assert book.budget("adult", "ana").spent == pytest.approx(4.0)
    # the budget (10) cannot pay another 8: refused, one line, nothing released
    code, stdout, stderr = _run(capsys, *base[:9], "count", *base[9:], "--epsilon", "8")
    assert code == 2 and "budget" in stderr.lower() and stdout == ""


def test_dp_query_with_a_spent_budget_exits_2_before_any_spark_job(spark, tmp_path, capsys):
    from janedoe.dp_noise import PrivacyCost
    from janedoe.ledger import Ledger

    view, ledger = "janedoe_precheck_visits", tmp_path / "ledger.db"
    spark.createDataFrame(pa.table({"visits": list(range(100))})).createOrReplaceTempView(view)
    policy = tmp_path / "policy.yaml"
    policy.write_text(yaml.safe_dump({"version": 1, "tables": {view: {"dp": {"epsilon": 1.0}}}}))
    with Ledger.open(str(ledger)) as book:
        book.set_budget(view, "ana", epsilon=1.0)
        book.spend(view, "ana", PrivacyCost(epsilon=1.0), query="all of it", mechanism="test")
    context = spark.sparkContext
    context.setJobGroup("janedoe-dp-precheck-cli", "refused query")  # a catalog view: reading it runs no job either
    try:
        code, stdout, stderr = _run(capsys, "dp", "query", f"table:{view}", "count", "--policy", str(policy),
                                    "--ledger", str(ledger), "--analyst", "ana", "--epsilon", "0.5")
    finally:
        context.setLocalProperty("spark.jobGroup.id", None)
        spark.catalog.dropTempView(view)
    assert code == 2 and len(stderr.strip().splitlines()) == 1 and "privacy budget exceeded" in stderr, stderr
    assert stdout == "" and "Traceback" not in stderr
    assert context.statusTracker().getJobIdsForGroup("janedoe-dp-precheck-cli") == []
    with Ledger.open(str(ledger)) as book:
        assert [s.query for s in book.spends()] == ["all of it"]


def test_dp_query_on_a_csv_with_a_spent_budget_reads_nothing(spark, tmp_path, capsys):
    from janedoe.dp_noise import PrivacyCost
    from janedoe.ledger import Ledger

    source, ledger, policy = tmp_path / "visits.csv", tmp_path / "ledger.db", tmp_path / "policy.yaml"
    source.write_text("visits\n" + "".join(f"{i}\n" for i in range(100)))
    policy.write_text(yaml.safe_dump({"version": 1, "tables": {"visits": {
        "dp": {"epsilon": 1.0}, "columns": {"visits": {"bounds": [0, 100]}}}}}))
    with Ledger.open(str(ledger)) as book:
        book.set_budget("visits", "ana", epsilon=1.0)
        book.spend("visits", "ana", PrivacyCost(epsilon=1.0), query="all of it", mechanism="test")
    context = spark.sparkContext
    context.setJobGroup("janedoe-dp-precheck-csv", "refused query")  # inferring the CSV's schema would run 2 jobs
    try:
        code, stdout, stderr = _run(capsys, "dp", "query", str(source), "mean(visits)", "--policy", str(policy),
                                    "--ledger", str(ledger), "--analyst", "ana", "--epsilon", "0.5")
    finally:
        context.setLocalProperty("spark.jobGroup.id", None)
    assert code == 2 and len(stderr.strip().splitlines()) == 1 and "privacy budget exceeded" in stderr, stderr
    assert stdout == "" and "Traceback" not in stderr
    assert context.statusTracker().getJobIdsForGroup("janedoe-dp-precheck-csv") == []
    with Ledger.open(str(ledger)) as book:
        assert [s.query for s in book.spends()] == ["all of it"]


def test_synth_fit_writes_the_inputs_columns_and_charges_the_ledger(spark, tmp_path, capsys):
    from janedoe.ledger import Ledger

    ledger, out = tmp_path / "ledger.db", tmp_path / "synthetic"
    with Ledger.open(str(ledger)) as book:
        book.set_budget("adult", "ana", epsilon=3.0, delta=1e-6)
    code, stdout, stderr = _run(capsys, "synth", "fit", "--policy", "data/demo/adult_privacy_policy.yaml", ADULT,
                                str(out), "--rows", "2000", "--seed", "3", "--delimiter", ";", "--ledger",
                                str(ledger), "--analyst", "ana")
    assert code == 0, stderr
    assert "mst spent epsilon=1" in stdout
    synthetic = ds.dataset(str(out)).to_table()
    real_columns = open(ADULT, encoding="utf-8").readline().strip().split(";")
    assert synthetic.num_rows == 2000 and synthetic.column_names == real_columns
    with Ledger.open(str(ledger)) as book:
        assert book.budget("adult", "ana").spent == pytest.approx(1.0)


def test_overwriting_the_input_by_another_spelling_is_refused_and_the_source_survives(tmp_path, capsys, customers,
                                                                                      monkeypatch):
    source, policy = customers
    before = source.read_bytes()
    monkeypatch.chdir(tmp_path)
    for output in (f"./{source.name}", str(tmp_path)):
        code, _, stderr = _run(capsys, "mask", source.name, output, "--policy", str(policy), "--format", "parquet",
                               "--overwrite")
        assert code == 2 and "must not be the input" in stderr
    assert source.read_bytes() == before
