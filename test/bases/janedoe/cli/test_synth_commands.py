"""`janedoe synth`: the real console script on real files; exit codes, one-line errors, no partial outputs."""

import os
import subprocess
import sys

import numpy as np
import pyarrow as pa
import pyarrow.csv as pacsv
import pytest

JANEDOE = os.path.join(os.path.dirname(sys.executable), "janedoe")

POLICY = """\
version: 1
tables:
  people:
    synthetic: {method: mst, epsilon: 2.0, delta: 1.0e-9}
    columns:
      sex: {categories: [f, m]}
      age: {bounds: [18, 90], bins: 12}
      income: {bounds: [0, 200000], bins: 16}
      smoker: {categories: ['yes', 'no']}
"""


def _run(*args, cwd=None):
    return subprocess.run([JANEDOE, *map(str, args)], capture_output=True, text=True, cwd=cwd, timeout=120)


@pytest.fixture
def people(tmp_path):
    rng = np.random.default_rng(0)
    rows = 3000
    age = rng.integers(18, 91, rows)
    table = pa.table({
        "sex": rng.choice(["f", "m"], rows),
        "age": age,
        "income": np.round(20000 + age * 900 + rng.normal(0, 8000, rows), 2),
        "smoker": np.where(rng.random(rows) < 0.25, "yes", "no"),
    })
    path = tmp_path / "people.csv"
    pacsv.write_csv(table, path)
    (tmp_path / "policy.yaml").write_text(POLICY)
    return path


def test_synth_writes_a_table_with_the_input_columns(people, tmp_path):
    output = tmp_path / "synthetic.csv"
    done = _run("synth", "--policy", tmp_path / "policy.yaml", people, output, "--rows", 500, "--seed", 3)
    assert done.returncode == 0, done.stderr
    assert "epsilon=2" in done.stdout and "rho=" in done.stdout and "fit" in done.stdout
    synthetic = pacsv.read_csv(output)
    real = pacsv.read_csv(people)
    assert synthetic.num_rows == 500 and synthetic.column_names == real.column_names
    assert set(synthetic.column("sex").to_pylist()) <= {"f", "m"}
    ages = synthetic.column("age").to_numpy()
    assert ages.min() >= 18 and ages.max() <= 90

    again = tmp_path / "again.csv"
    assert _run("synth", "fit", "--policy", tmp_path / "policy.yaml", people, again, "--table", "people",
                "--rows", 10).returncode == 0
    assert pacsv.read_csv(again).num_rows == 10


def test_report_writes_html(people, tmp_path):
    synthetic = tmp_path / "synthetic.csv"
    assert _run("synth", "--policy", tmp_path / "policy.yaml", people, synthetic, "--seed", 1).returncode == 0
    report = tmp_path / "report.html"
    done = _run("synth", "report", people, synthetic, report, "--target", "smoker",
                "--policy", tmp_path / "policy.yaml")
    assert done.returncode == 0, done.stderr
    text = report.read_text()
    assert "<svg" in text and "income" in text and "epsilon" in text


def test_bad_policy_is_one_line_exit_2_and_no_output(people, tmp_path):
    (tmp_path / "bad.yaml").write_text(POLICY.replace("      smoker: {categories: ['yes', 'no']}\n", ""))
    output = tmp_path / "synthetic.csv"
    done = _run("synth", "--policy", tmp_path / "bad.yaml", people, output)
    assert done.returncode == 2
    assert done.stderr.count("\n") == 1 and "smoker" in done.stderr and "bounds or categories" in done.stderr
    assert not output.exists()
    done = _run("synth", "--policy", tmp_path / "policy.yaml", tmp_path / "missing.csv", output)
    assert done.returncode == 2 and done.stderr.count("\n") == 1
    assert not output.exists()


def test_ledger_is_charged_before_fitting_and_refuses_overspending(people, tmp_path):
    from janedoe.dp_noise import rho_from_epsilon_delta
    from janedoe.ledger import Ledger

    ledger_path = tmp_path / "ledger.db"
    with Ledger.open(str(ledger_path)) as ledger:
        ledger.set_budget("people", "ana", rho=1.5 * rho_from_epsilon_delta(2.0, 1e-9))
    first, second = tmp_path / "first.csv", tmp_path / "second.csv"
    (tmp_path / "bad.yaml").write_text(POLICY.replace("      smoker: {categories: ['yes', 'no']}\n", ""))
    done = _run("synth", "--policy", tmp_path / "bad.yaml", people, first, "--ledger", ledger_path, "--analyst", "ana")
    assert done.returncode == 2 and not first.exists()
    with Ledger.open(str(ledger_path)) as ledger:
        assert ledger.budget("people", "ana").spent == 0  # a policy mistake is refused before anything is charged
    args = ("synth", "--policy", tmp_path / "policy.yaml", people)
    done = _run(*args, first, "--ledger", ledger_path, "--analyst", "ana")
    assert done.returncode == 0, done.stderr
    with Ledger.open(str(ledger_path)) as ledger:
        assert ledger.budget("people", "ana").spent == pytest.approx(rho_from_epsilon_delta(2.0, 1e-9))
    done = _run(*args, second, "--ledger", ledger_path, "--analyst", "ana")
    assert done.returncode == 2 and done.stderr.count("\n") == 1
    assert not second.exists()
    with Ledger.open(str(ledger_path)) as ledger:
        assert ledger.budget("people", "ana").spent == pytest.approx(rho_from_epsilon_delta(2.0, 1e-9))


def test_ledger_needs_an_analyst(people, tmp_path):
    done = _run("synth", "--policy", tmp_path / "policy.yaml", people, tmp_path / "o.csv", "--ledger",
                tmp_path / "ledger.db")
    assert done.returncode == 2 and "--analyst" in done.stderr


def test_fake_writes_one_file_per_table(tmp_path):
    (tmp_path / "schema.yaml").write_text(
        "tables:\n"
        "  users: {rows: 200, columns: {id: {type: int, unique: true}, email: {faker: email, unique: true}}}\n"
        "  visits: {rows: 500, columns: {user: {references: users.id}, day: {type: date}}}\n"
    )
    (tmp_path / "out").mkdir()
    done = _run("synth", "fake", tmp_path / "schema.yaml", tmp_path / "out", "--seed", 4)
    assert done.returncode == 0, done.stderr
    users = pacsv.read_csv(tmp_path / "out" / "users.csv")
    visits = pacsv.read_csv(tmp_path / "out" / "visits.csv")
    assert users.num_rows == 200 and visits.num_rows == 500
    assert set(visits.column("user").to_pylist()) <= set(users.column("id").to_pylist())
    done = _run("synth", "fake", tmp_path / "schema.yaml", tmp_path / "nowhere")
    assert done.returncode == 2 and done.stderr.count("\n") == 1


def test_an_out_of_domain_record_is_dropped_and_the_fit_charges_exactly_once(people, tmp_path):
    """It used to fail after the charge: one record then decided whether the fit succeeded."""
    from janedoe.ledger import Ledger

    with people.open("a") as out:
        out.write('"x",40,50000,"yes"\n')  # sex outside the declared categories
    ledger_path, output = tmp_path / "ledger.db", tmp_path / "synthetic.csv"
    with Ledger.open(str(ledger_path)) as ledger:
        ledger.set_budget("people", "ana", rho=1.0)
    done = _run("synth", "--policy", tmp_path / "policy.yaml", people, output, "--ledger", ledger_path,
                "--analyst", "ana")
    assert done.returncode == 0, done.stderr
    assert set(pacsv.read_csv(output).column("sex").to_pylist()) <= {"f", "m"}
    with Ledger.open(str(ledger_path)) as ledger:
        assert len(ledger.spends()) == 1


@pytest.mark.parametrize("budget", ["epsilon: 1.0e-6", "epsilon: 1.0e+300", "epsilon: .nan",
                                    "epsilon: 1.0, delta: 5.0e-324"])
def test_budgets_the_fit_cannot_spend_exit_2_before_the_charge(people, tmp_path, budget):
    from janedoe.ledger import Ledger

    (tmp_path / "odd.yaml").write_text(POLICY.replace("epsilon: 2.0, delta: 1.0e-9", budget))
    ledger_path, output = tmp_path / "ledger.db", tmp_path / "synthetic.csv"
    with Ledger.open(str(ledger_path)) as ledger:
        ledger.set_budget("people", "ana", rho=1.0)
    done = _run("synth", "--policy", tmp_path / "odd.yaml", people, output, "--ledger", ledger_path, "--analyst", "ana")
    assert done.returncode == 2 and done.stderr.count("\n") == 1 and "Traceback" not in done.stderr
    assert not output.exists()
    with Ledger.open(str(ledger_path)) as ledger:
        assert ledger.spends() == [] and ledger.budget("people", "ana").spent == 0
