"""`janedoe dp query | budget` through the real console script, against real ledger files."""

import json
import os
import subprocess
import sys

import pytest

JANEDOE = os.path.join(os.path.dirname(sys.executable), "janedoe")
POLICY = """\
version: 1
default: keep
tables:
  people:
    dp:
      epsilon: 1.0
      user_id: user
      max_rows_per_user: 2
    columns:
      age: {bounds: [0, 100]}
      colour: {categories: [red, green]}
"""


def run(*args, env=None):
    return subprocess.run([JANEDOE, *args], capture_output=True, text=True, timeout=120, env=env)


@pytest.fixture
def files(tmp_path):
    rows = ["user,age,colour,salary"] + [
        f"u{i % 50},{20 + i % 60},{'red' if i % 3 else 'green'},{i}" for i in range(200)
    ]
    (tmp_path / "people.csv").write_text("\n".join(rows) + "\n")
    (tmp_path / "policy.yaml").write_text(POLICY)
    return tmp_path


def query(files, expression, epsilon, *extra):
    return run(
        "dp",
        "query",
        "--policy",
        str(files / "policy.yaml"),
        "--ledger",
        str(files / "ledger.db"),
        "--analyst",
        "ana",
        str(files / "people.csv"),
        expression,
        "--epsilon",
        str(epsilon),
        *extra,
    )


def budget(files):
    result = run("dp", "budget", "--ledger", str(files / "ledger.db"), "--json")
    assert result.returncode == 0, result.stderr
    return json.loads(result.stdout)


def test_queries_spend_then_overspending_exits_2_and_spends_nothing(files):
    result = query(files, "count", 0.25)
    assert result.returncode == 0, result.stderr
    assert "count = " in result.stdout and "95% CI" in result.stdout and "remaining budget 0.75 of 1" in result.stdout
    result = query(files, "mean(age)", 0.25, "--json")
    assert result.returncode == 0, result.stderr
    answer = json.loads(result.stdout)
    assert 20 <= answer["answer"]["value"] <= 80 and answer["budget"]["remaining"] == pytest.approx(0.5)
    assert answer["answer"]["rows_per_user"] == 2
    result = query(files, "histogram(colour)", 0.25, "--json")
    assert [g["key"] for g in json.loads(result.stdout)["answer"]["groups"]] == ["red", "green"]
    result = query(files, "sum(age)", 0.5)  # only 0.25 left
    assert result.returncode == 2
    assert result.stderr.count("\n") == 1 and "budget" in result.stderr and "Traceback" not in result.stderr
    assert result.stdout == ""
    state = budget(files)
    assert [s["query"] for s in state["spends"]] == ["count", "mean(age)", "histogram(colour)"]
    assert state["budgets"][0]["spent"] == pytest.approx(0.75)


def test_an_analyst_who_cannot_pay_is_refused_before_the_file_is_read(files):
    from janedoe.dp_noise import PrivacyCost
    from janedoe.ledger import Ledger

    # past the first 4 MB (all the schema is inferred from) a row that reading the whole file trips over
    rows = "".join(f"u{i % 50},{20 + i % 60},red,{i}\n" for i in range(300_000))
    (files / "people.csv").write_text("user,age,colour,salary\n" + rows + "u1,not a number,red,1\n")
    result = query(files, "count", 0.5)  # with budget left the file is read, and that row is refused
    assert result.returncode == 2 and "people.csv:300002" in result.stderr and "budget" not in result.stderr
    with Ledger.open(str(files / "ledger.db")) as ledger:
        ledger.spend("people", "ana", PrivacyCost(epsilon=1.0), query="all of it", mechanism="test")
    result = query(files, "count", 0.5)
    assert result.returncode == 2 and result.stderr.count("\n") == 1, result.stderr
    assert "privacy budget exceeded" in result.stderr and "300002" not in result.stderr
    assert [s["query"] for s in budget(files)["spends"]] == ["all of it"]


def test_bad_input_exits_2_with_one_line_and_spends_nothing(files):
    for expression, fragment in [("sum(nope)", "unknown column"), ("mean(age", "malformed")]:
        result = query(files, expression, 0.1)
        assert result.returncode == 2
        assert result.stderr.count("\n") == 1 and fragment in result.stderr
    assert budget(files)["spends"] == []


def test_budget_can_be_set_and_shown(files):
    ledger = str(files / "ledger.db")
    env = {**os.environ, "JANEDOE_LEDGER": ledger}  # the ledger URL may hold a password: env, not argv
    result = run("dp", "budget", "--dataset", "d", "--analyst", "bo", "--set-rho", "0.5", env=env)
    assert result.returncode == 0, result.stderr
    assert "rho" in result.stdout and "0.5" in result.stdout
    result = run("dp", "budget", "--ledger", ledger, "--set-rho", "0.5")
    assert result.returncode == 2 and "--dataset" in result.stderr


@pytest.mark.parametrize(
    ("epsilon", "extra"),
    [("5e-324", ()), ("1e300", ()), ("nan", ()), ("inf", ()), ("1.0", ("--delta", "1e-320")),
     ("1e-10", ("--delta", "1e-6"))],
)
def test_parameters_the_mechanisms_cannot_run_exit_2_and_spend_nothing(files, epsilon, extra):
    """These used to charge the ledger and then end in an OverflowError traceback."""
    for expression in ("variance(age)", "histogram(colour)"):
        result = query(files, expression, epsilon, *extra)
        assert result.returncode == 2, result.stderr
        assert result.stderr.count("\n") == 1 and "Traceback" not in result.stderr
        assert "epsilon" in result.stderr or "delta" in result.stderr
    state = budget(files)
    assert state["spends"] == [] and state["budgets"][0]["spent"] == 0
