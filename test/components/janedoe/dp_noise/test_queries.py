"""Queries over Arrow tables: calibration (scales worked out by hand), coverage of the 95% intervals, contribution
bounding, key selection, and refusals that spend nothing and draw no noise."""

import math

import numpy as np
import pyarrow as pa
import pytest
from janedoe.dp_noise import bound_contributions, epsilon_for_accuracy, parse_query, run_query
from janedoe.errors import BudgetExceededError, JaneDoeInputError
from janedoe.policy import DpSection
from scipy import stats

BOUNDS = {"age": {"bounds": (0, 100)}, "colour": {"categories": ["red", "green", "blue"]}, "income": (0.0, 1000.0)}


def people(rows=400, seed=0):
    rng = np.random.default_rng(seed)
    return pa.table(
        {
            "user": [f"u{i % (rows // 4)}" for i in range(rows)],  # every user has 4 rows
            "age": rng.integers(0, 120, rows),  # some above the upper bound: clamped
            "income": rng.uniform(-50, 1500, rows),
            "colour": rng.choice(["red", "green", "blue", "mauve"], rows),
        }
    )


def coverage(table, expression, truth, runs=400, **kwargs):
    rng = np.random.default_rng(123)
    inside = 0
    for _ in range(runs):
        answer = run_query(table, expression, epsilon=0.5, columns_bounds=BOUNDS, rng=rng, **kwargs)
        low, high = answer.ci_95
        inside += low <= truth <= high
    return inside, runs


def test_count_scale_and_interval():
    table = people()
    answer = run_query(table, "count", epsilon=0.5, columns_bounds=BOUNDS, rng=np.random.default_rng(1))
    assert answer.noise[0]["scale"] == 2.0 and answer.noise[0]["granularity"] == 1.0
    assert isinstance(answer.value, int)
    # discrete Laplace scale 2: P(|Z| > m) = 2 p^(m+1) / (1 + p), p = e^-1/2; smallest m with <= 5% is 5
    p = math.exp(-0.5)
    m = next(m for m in range(100) if 2 * p ** (m + 1) / (1 + p) <= 0.05)
    assert answer.ci_95 == (answer.value - m, answer.value + m)
    inside, runs = coverage(table, "count", table.num_rows)
    assert stats.binomtest(inside, runs, 0.95, alternative="less").pvalue > 1e-3


def test_sum_is_clamped_and_covered():
    table = people()
    truth = float(np.clip(table.column("income").to_numpy(), 0, 1000).sum())
    answer = run_query(table, "sum(income)", epsilon=0.5, columns_bounds=BOUNDS, rng=np.random.default_rng(2))
    # sensitivity max(|0|, |1000|) = 1000 plus one grid step, over epsilon 0.5
    assert answer.noise[0]["scale"] == pytest.approx(2000, rel=1e-3) and answer.noise[0]["scale"] >= 2000
    inside, runs = coverage(table, "sum(income)", truth)
    assert stats.binomtest(inside, runs, 0.95, alternative="less").pvalue > 1e-3


@pytest.mark.parametrize("expression,truth_of", [("mean(age)", np.mean), ("variance(age)", np.var)])
def test_mean_and_variance_intervals_cover(expression, truth_of):
    table = people(rows=2000)
    truth = float(truth_of(np.clip(table.column("age").to_numpy(), 0, 100)))
    inside, runs = coverage(table, expression, truth, runs=200)
    assert inside / runs >= 0.95


def test_gaussian_when_delta_is_given():
    table = people()
    answer = run_query(table, "count", epsilon=1.0, delta=1e-6, columns_bounds=BOUNDS, rng=np.random.default_rng(3))
    assert answer.mechanism == "discrete gaussian"
    assert answer.cost.rho == pytest.approx(1 / (2 * answer.noise[0]["scale"] ** 2), rel=0.02)
    # the noise actually drawn is at least as wide as the rho charged requires (sensitivity 1)
    assert 1 / (2 * answer.noise[0]["scale"] ** 2) <= answer.cost.rho


def test_contribution_bounding_keeps_rows_per_user_rows():
    table = people()  # 100 users x 4 rows
    section = DpSection(epsilon=1.0, user_id="user", max_rows_per_user=2)
    answers = [
        run_query(table, "count", epsilon=1.0, section=section, columns_bounds=BOUNDS, rng=np.random.default_rng(s))
        for s in range(300)
    ]
    assert answers[0].noise[0]["scale"] == 2.0  # sensitivity is 2 rows per person
    assert abs(np.mean([a.value for a in answers]) - 200) < 0.5  # 100 users x 2 rows kept
    incomes = np.clip(table.column("income").to_numpy(), 0, 1000)
    first_two = incomes.reshape(4, 100)[:2].sum()  # row i belongs to user i % 100; any 2 rows: the same on average
    sums = [
        run_query(
            table, "sum(income)", epsilon=1.0, section=section, columns_bounds=BOUNDS, rng=np.random.default_rng(s)
        )
        for s in range(100)
    ]
    assert abs(np.mean([a.value for a in sums]) - first_two) < 5 * 2000 * math.sqrt(2) / 10


def test_histogram_with_known_keys():
    table = people()
    answer = run_query(table, "histogram(colour)", epsilon=5.0, columns_bounds=BOUNDS, rng=np.random.default_rng(4))
    assert [g.key for g in answer.groups] == ["red", "green", "blue"]  # mauve is not a public key: never shown
    colours = table.column("colour").to_pylist()
    for group in answer.groups:
        assert abs(group.value - colours.count(group.key)) <= 4


def test_histogram_with_unknown_keys_needs_delta_and_hides_rare_keys():
    rows = ["common"] * 500 + ["rare"]
    table = pa.table({"city": rows})
    with pytest.raises(JaneDoeInputError):
        run_query(table, "histogram(city)", epsilon=1.0, columns_bounds={})
    shown = {"common": 0, "rare": 0}
    rng = np.random.default_rng(5)
    for _ in range(300):
        answer = run_query(table, "histogram(city)", epsilon=1.0, delta=1e-6, columns_bounds={}, rng=rng)
        for group in answer.groups:
            shown[group.key] += 1
    assert shown == {"common": 300, "rare": 0}


def test_grouped_mean_with_known_keys():
    table = people(rows=4000)
    answer = run_query(
        table, "mean(age)", epsilon=2.0, by="colour", columns_bounds=BOUNDS, rng=np.random.default_rng(6)
    )
    ages = np.clip(table.column("age").to_numpy(), 0, 100)
    colours = np.array(table.column("colour").to_pylist())
    for group in answer.groups:
        truth = ages[colours == group.key].mean()
        assert group.ci_95[0] - 1 <= truth <= group.ci_95[1] + 1


def test_median_lands_near_the_middle():
    table = pa.table({"age": np.arange(1, 1002)})
    answers = [
        run_query(table, "median(age)", epsilon=1.0, columns_bounds={"age": (0, 2000)}, rng=np.random.default_rng(s))
        for s in range(20)
    ]
    assert all(abs(a.value - 501) <= 40 for a in answers)
    assert answers[0].cost.rho == pytest.approx(1 / 8)


def test_refusals_spend_nothing_and_draw_nothing():
    table = people()
    charged = []
    rng = np.random.default_rng(7)
    state = rng.bit_generator.state
    bad = [
        ("sum(nope)", {}),
        ("sum(colour)", {}),  # not numeric
        ("sum(user)", {}),
        ("mean(age)", {"columns_bounds": {}}),  # bounds missing
        ("count", {"epsilon": -1.0}),
        ("count", {"epsilon": 0.0}),
        ("count(", {}),
        ("count", {"by": "nope"}),
        ("histogram(colour)", {"by": "age"}),
        ("count", {"delta": 1.5}),
    ]
    for expression, overrides in bad:
        kwargs = {"epsilon": 1.0, "columns_bounds": BOUNDS, "rng": rng, "charge": lambda c, m: charged.append(c)}
        kwargs.update(overrides)
        with pytest.raises(JaneDoeInputError):
            run_query(table, expression, **kwargs)
    assert charged == [] and rng.bit_generator.state == state

    def refuse(cost, mechanism):
        raise BudgetExceededError("no budget left")

    with pytest.raises(BudgetExceededError):
        run_query(table, "count", epsilon=1.0, columns_bounds=BOUNDS, rng=rng, charge=refuse)
    assert rng.bit_generator.state == state  # the charge came before any noise


def test_epsilon_for_accuracy_is_what_the_release_delivers():
    table = people()
    for expression, target, kwargs in [
        ("count", 10.0, {}),
        ("sum(income)", 5000.0, {}),
        ("count", 10.0, {"delta": 1e-6}),
    ]:
        epsilon = epsilon_for_accuracy(expression, target, columns_bounds=BOUNDS, **kwargs)
        answer = run_query(table, expression, epsilon=epsilon, columns_bounds=BOUNDS, **kwargs)
        assert answer.ci_95[1] - answer.value <= target
        looser = run_query(table, expression, epsilon=epsilon * 0.9, columns_bounds=BOUNDS, **kwargs)
        assert looser.ci_95[1] - looser.value > target
    with pytest.raises(JaneDoeInputError):
        epsilon_for_accuracy("mean(age)", 1.0, columns_bounds=BOUNDS)  # needs the expected rows


def test_parse_query():
    assert str(parse_query(" quantile( age , 0.25 )")) == "quantile(age, 0.25)"
    assert parse_query('histogram("native country")').column == "native country"
    for bad in ["", "sum", "sum()", "avg(x)", "quantile(x)", "quantile(x, 1.5)", "count(x)", "mean(x", "x; drop"]:
        with pytest.raises(JaneDoeInputError):
            parse_query(bad)


def test_contribution_bounding_across_record_batches():
    table = pa.Table.from_batches([pa.record_batch({"u": ["a", "b", "a"]}), pa.record_batch({"u": ["c", "a", "b"]})])
    assert bound_contributions(table, "u", 1).column("u").to_pylist() == ["a", "b", "c"]
    assert bound_contributions(table, "u", 2).column("u").to_pylist() == ["a", "b", "a", "c", "b"]
    assert bound_contributions(table, None, 1).num_rows == 6


def test_histogram_of_a_numeric_column_uses_public_bins():
    table = pa.table({"age": [5, 10, 60, 99, 150, None]})
    bounds = {"age": {"bounds": (0, 100), "bins": 2}}
    answer = run_query(table, "histogram(age)", epsilon=50.0, columns_bounds=bounds, rng=np.random.default_rng(9))
    assert [(g.key, g.value) for g in answer.groups] == [("[0, 50)", 2), ("[50, 100]", 3)]  # 150 clamped into the top


def test_unknown_keys_noise_scales_with_the_rows_per_person_cap():
    table = pa.table({"user": [f"u{i // 3}" for i in range(600)], "city": ["a", "b", "c"] * 200})
    section = DpSection(epsilon=1.0, user_id="user", max_rows_per_user=2)
    answer = run_query(
        table, "histogram(city)", epsilon=0.5, delta=1e-6, section=section, rng=np.random.default_rng(10)
    )
    assert answer.noise[0]["scale"] == 4.0  # L1 = 2 rows per person, epsilon 0.5
    # each person keeps 2 of their 3 rows (a, b, c), chosen by a keyed random rank: 400 rows over the three cities
    assert sorted(g.key for g in answer.groups) == ["a", "b", "c"]
    assert abs(sum(g.value for g in answer.groups) - 400) <= 60
    assert answer.cost.delta == 1e-6 and answer.cost.rho is None
