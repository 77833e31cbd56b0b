"""DP queries on Spark answer exactly what dp_noise.run_query answers on the same rows, with the same test random
source and bounding key, whatever the partitioning; bounding, exact sums and the ledger's order hold on Spark."""

from fractions import Fraction

import numpy as np
import pyarrow as pa
import pytest
from janedoe.dp_noise import (
    bound_contributions,
    feature_totals,
    plan_query,
    run_query,
    statistics_from_totals,
)
from janedoe.errors import BudgetExceededError, JaneDoeInputError, NotFoundError
from janedoe.ledger import Ledger
from janedoe.policy import DpSection
from janedoe.spark_engine import spark_query
from janedoe.spark_engine.dp_query import spark_totals

KEY = b"bounding key for tests, 32 bytes"
BOUNDS = {
    "age": {"bounds": (0, 100)},
    "income": {"bounds": (0.0, 1000.0)},
    "colour": {"categories": ["red", "green", "blue"]},
}
CITIES = ["Aachen", "Bonn", "Celle", "Dessau", "Emden"]
SECTION = DpSection(epsilon=10.0, user_id="user", max_rows_per_user=3)


def _people(rows: int = 3000, seed: int = 11) -> pa.Table:
    """Users with 1 to ~40 rows (so bounding cuts), incomes in cents (0.1-like floats), a few nulls and NaNs."""
    rng = np.random.default_rng(seed)
    users = np.minimum(rng.geometric(0.08, rows), 60)
    income = np.round(rng.uniform(-50, 1200, rows), 2)
    income[rng.random(rows) < 0.02] = np.nan
    return pa.table({
        "user": pa.array([f"u{u * 7 + i % 5}" for i, u in enumerate(users)]),
        "age": pa.array([None if i % 97 == 0 else int(a) for i, a in enumerate(rng.integers(0, 120, rows))],
                        pa.int64()),
        "income": pa.array(income),
        "colour": pa.array(rng.choice(["red", "green", "blue", "mauve"], rows)),
        "city": pa.array(rng.choice(CITIES, rows, p=[0.4, 0.3, 0.2, 0.0995, 0.0005])),
    })


QUERIES = [
    ("count", {}),
    ("sum(income)", {}),
    ("mean(age)", {}),
    ("sum(income)", {"by": "colour"}),
    ("histogram(city)", {"delta": 1e-6}),  # keys not in the policy: threshold selection
]
MORE_QUERIES = [
    ("variance(income)", {"delta": 1e-6}),
    ("mean(income)", {"by": "city", "delta": 1e-6}),
    ("median(age)", {"by": "colour"}),
]


@pytest.mark.parametrize("partitions", [1, 5])
def test_answers_equal_run_query(spark, partitions):
    table = _people()
    frame = spark.createDataFrame(table).repartition(partitions).cache()  # one shuffle for all the queries
    answers = {}
    try:
        for seed, (expression, options) in enumerate(QUERIES + (MORE_QUERIES if partitions == 5 else [])):
            kwargs = {"epsilon": 1.0, "section": SECTION, "columns_bounds": BOUNDS, "bounding_key": KEY, **options}
            expected = run_query(table, expression, rng=np.random.default_rng(seed), **kwargs)
            answer = spark_query(frame, expression, rng=np.random.default_rng(seed), **kwargs)
            assert answer.to_dict() == expected.to_dict(), expression
            answers[expression + str(options.get("by"))] = answer
    finally:
        frame.unpersist()
    assert [g.key for g in answers["sum(income)colour"].groups] == ["red", "green", "blue"]  # mauve is not a public key
    assert [g.key for g in answers["histogram(city)None"].groups] == CITIES[:4]  # sorted; Emden is too rare


def test_a_person_with_a_thousand_rows_contributes_at_most_max_rows(spark):
    whale = 1000
    table = pa.table({
        "user": ["whale"] * whale + [f"p{i}" for i in range(200)],
        "income": np.r_[np.arange(whale) * 0.5, np.full(200, 1.0)],
        "colour": ["red"] * (whale + 200),
    })
    plan = plan_query(table.schema, "sum(income)", epsilon=1.0, section=SECTION, columns_bounds=BOUNDS, by="colour")
    totals = spark_totals(spark.createDataFrame(table).repartition(4), plan.features, plan.rows_per_user, KEY)
    statistics = statistics_from_totals(plan.keys, plan.features, totals)
    assert statistics.rows.tolist() == [200 + 3, 0, 0] and statistics.present.tolist() == [203, 0, 0]
    kept = bound_contributions(plan.features.compute(table), "user", 3, bounding_key=KEY)
    local = statistics_from_totals(plan.keys, plan.features, feature_totals(plan.features, kept))
    assert statistics.sums.tolist() == local.sums.tolist()  # the same three rows of the whale, chosen by the key
    whale_units = int(statistics.sums[0]) - 200 * (1 << -plan.features.exponent)
    assert 0 <= whale_units * 2.0**plan.features.exponent <= 3 * 499.5


def test_sums_are_exact_whatever_the_partitioning(spark):
    values = np.r_[np.full(3000, 0.1), np.full(3000, 999.9), [1e-9, 1 / 3, 2 / 3]]
    table = pa.table({"x": values})
    bounds = {"x": {"bounds": (0.0, 1000.0)}}
    plan = plan_query(table.schema, "sum(x)", epsilon=1.0, columns_bounds=bounds)
    exact = sum(Fraction(round(v * 2.0 ** -plan.features.exponent)) for v in values.tolist())
    frame = spark.createDataFrame(table)
    for partitions in (1, 7):
        totals = spark_totals(frame.repartition(partitions), plan.features, 1, KEY)
        assert statistics_from_totals(plan.keys, plan.features, totals).sums.tolist() == [exact]


def test_the_ledger_is_charged_before_noise_and_a_refusal_releases_nothing(spark, tmp_path):
    table = _people(rows=300)
    frame = spark.createDataFrame(table)
    with Ledger.open(str(tmp_path / "ledger.db")) as ledger:
        ledger.set_budget("people", "ana", epsilon=1.0)

        def charge(cost, mechanism):
            ledger.spend("people", "ana", cost, query="sum(income)", mechanism=mechanism)

        class CheckedSource:  # a random source that records what the ledger held when the first noise was drawn
            def __init__(self):
                self.generator, self.spends_at_first_draw = np.random.default_rng(1), None

            def integers_below(self, high, size):
                if self.spends_at_first_draw is None:
                    self.spends_at_first_draw = len(ledger.spends())
                return self.generator.integers(0, high, size=size, dtype=np.int64)

        source = CheckedSource()
        answer = spark_query(frame, "sum(income)", epsilon=0.75, section=SECTION, columns_bounds=BOUNDS, rng=source,
                             charge=charge, bounding_key=KEY)
        assert source.spends_at_first_draw == 1 and answer.cost.epsilon == 0.75
        rng = np.random.default_rng(2)
        state = rng.bit_generator.state
        with pytest.raises(BudgetExceededError):  # 0.25 left
            spark_query(frame, "sum(income)", epsilon=0.5, section=SECTION, columns_bounds=BOUNDS, rng=rng,
                        charge=charge)
        assert rng.bit_generator.state == state  # no noise drawn
        with pytest.raises(JaneDoeInputError):  # refused while planning (not numeric): nothing charged
            spark_query(frame, "sum(user)", epsilon=0.1, columns_bounds=BOUNDS, rng=rng, charge=charge)
        with pytest.raises(JaneDoeInputError, match="bounding key"):
            spark_query(frame, "count", epsilon=0.1, rng=rng, charge=charge, bounding_key=b"short")
        assert [s.charged for s in ledger.spends()] == [0.75]
        assert ledger.budget("people", "ana").remaining == pytest.approx(0.25)


def _jobs_in_group(spark, group: str, work) -> list[int]:
    """The ids of the Spark jobs work() started (run under its own job group)."""
    context = spark.sparkContext
    context.setJobGroup(group, group)
    try:
        work()
    finally:
        context.setLocalProperty("spark.jobGroup.id", None)
    return context.statusTracker().getJobIdsForGroup(group)


def test_an_analyst_who_cannot_pay_is_refused_before_any_spark_job(spark, tmp_path):
    frame = spark.createDataFrame(_people(rows=200))
    with Ledger.open(str(tmp_path / "ledger.db")) as ledger:
        ledger.set_budget("people", "ana", epsilon=1.0)

        def ask(epsilon, analyst="ana"):
            return spark_query(
                frame, "count", epsilon=epsilon, section=SECTION, bounding_key=KEY,
                precheck=lambda cost: ledger.check_affordable("people", analyst, cost),
                charge=lambda cost, mechanism: ledger.spend("people", analyst, cost, query="count",
                                                            mechanism=mechanism))

        assert _jobs_in_group(spark, "janedoe-dp-paid", lambda: ask(0.75))  # the job ids do show a paid query's job
        for group, analyst, refusal in [("janedoe-dp-spent", "ana", BudgetExceededError),
                                        ("janedoe-dp-no-budget", "bob", NotFoundError)]:
            def refused(analyst=analyst, refusal=refusal):
                with pytest.raises(refusal):
                    ask(0.5, analyst)

            assert _jobs_in_group(spark, group, refused) == [], analyst
        assert [s.charged for s in ledger.spends()] == [0.75]
