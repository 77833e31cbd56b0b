"""MST end to end: dependence preserved along a chain, exactness at huge epsilon, accounting, schema, bad input."""

import itertools
import math

import numpy as np
import pyarrow as pa
import pytest
from janedoe.dp_noise import rho_from_epsilon_delta
from janedoe.errors import JaneDoeInputError
from janedoe.synthetic import fit_mst, synthesize

CHAIN_SPEC = {name: {"categories": [0, 1, 2]} for name in "ABC"}


def _chain(rows: int, seed: int) -> pa.Table:
    """A -> B -> C: each copies its parent with probability 0.7, else uniform. A and C are independent given B."""
    rng = np.random.default_rng(seed)
    a = rng.integers(0, 3, rows)
    b = np.where(rng.random(rows) < 0.7, a, rng.integers(0, 3, rows))
    c = np.where(rng.random(rows) < 0.7, b, rng.integers(0, 3, rows))
    return pa.table({"A": a, "B": b, "C": c})


def _conditional_correlation(a: np.ndarray, c: np.ndarray, b: np.ndarray) -> float:
    """Row-weighted average over values of b of corr(a, c) within that group."""
    total, weight = 0.0, 0
    for value in np.unique(b):
        group = b == value
        if group.sum() > 10 and a[group].std() > 0 and c[group].std() > 0:
            total += np.corrcoef(a[group], c[group])[0, 1] * group.sum()
            weight += group.sum()
    return total / weight


def test_chain_keeps_a_and_c_independent_given_b():
    real = _chain(20000, seed=1)
    model = fit_mst(real, CHAIN_SPEC, epsilon=5.0, delta=1e-9, rng=np.random.default_rng(2))
    assert {frozenset(edge) for edge in model.edges} == {frozenset("AB"), frozenset("BC")}
    synthetic = model.sample(20000, rng=3)
    a, b, c = (synthetic.column(name).to_numpy() for name in "ABC")
    assert abs(_conditional_correlation(a, c, b)) < 0.03
    # the dependence that should be there is there: A and C stay correlated through B (real: 0.49)
    real_ac = np.corrcoef(real.column("A").to_numpy(), real.column("C").to_numpy())[0, 1]
    assert abs(np.corrcoef(a, c)[0, 1] - real_ac) < 0.05


def _total_variation(x: pa.Table, y: pa.Table, columns: tuple[str, ...]) -> float:
    def shares(table):
        keys = [tuple(row) for row in zip(*(table.column(c).to_pylist() for c in columns), strict=True)]
        values, counts = np.unique(np.array(keys), axis=0, return_counts=True)
        return {tuple(v): n / len(keys) for v, n in zip(values.tolist(), counts, strict=True)}

    a, b = shares(x), shares(y)
    return 0.5 * sum(abs(a.get(k, 0.0) - b.get(k, 0.0)) for k in set(a) | set(b))


def _four_columns(rows: int, seed: int) -> pa.Table:
    rng = np.random.default_rng(seed)
    w = rng.integers(0, 4, rows)
    x = np.where(rng.random(rows) < 0.8, w, rng.integers(0, 4, rows))
    y = np.where(rng.random(rows) < 0.5, x % 3, rng.integers(0, 3, rows))
    z = np.where(rng.random(rows) < 0.3, w % 2, rng.integers(0, 2, rows))
    return pa.table({"w": w, "x": x, "y": y, "z": z})


FOUR_SPEC = {"w": {"categories": [0, 1, 2, 3]}, "x": {"categories": [0, 1, 2, 3]},
             "y": {"categories": [0, 1, 2]}, "z": {"categories": [0, 1]}}


def _max_spanning_tree(real: pa.Table) -> set[frozenset]:
    """Kruskal on L1(real 2-way - product of real 1-ways): what MST selects when the noise vanishes."""
    names = real.column_names
    weights = {}
    n = real.num_rows
    for a, b in itertools.combinations(names, 2):
        joint = np.zeros((5, 5))
        np.add.at(joint, (real.column(a).to_numpy(), real.column(b).to_numpy()), 1)
        weights[a, b] = np.abs(joint - np.outer(joint.sum(1), joint.sum(0)) / n).sum()
    group = {name: name for name in names}

    def find(name):
        while group[name] != name:
            name = group[name]
        return name

    tree = set()
    for a, b in sorted(weights, key=weights.get, reverse=True):
        if find(a) != find(b):
            group[find(a)] = find(b)
            tree.add(frozenset((a, b)))
    return tree


def test_huge_epsilon_reproduces_the_tree_marginals():
    real = _four_columns(10000, seed=4)
    model = fit_mst(real, FOUR_SPEC, epsilon=1e5, delta=1e-9, rng=np.random.default_rng(5))
    assert {frozenset(edge) for edge in model.edges} == _max_spanning_tree(real)
    synthetic = model.sample(real.num_rows, rng=6)
    for edge in model.edges:
        # randomized rounding: each cell is off by less than one row per parent group, far below sampling error
        assert _total_variation(real, synthetic, edge) < 0.005
    for column in real.column_names:
        assert _total_variation(real, synthetic, (column,)) < 0.002


@pytest.mark.parametrize("epsilon", [0.3, 3.0])
def test_rho_recomputed_from_the_noise_scales_equals_the_budget(epsilon):
    real = _four_columns(3000, seed=7)
    model = fit_mst(real, FOUR_SPEC, epsilon=epsilon, delta=1e-6, rng=np.random.default_rng(8))
    gaussians = [r for r in model.noise if r.mechanism == "discrete_gaussian"]
    selections = [r for r in model.noise if r.mechanism == "exponential"]
    assert len(gaussians) == 4 + 3 and len(selections) == 3
    recomputed = sum(1 / (2 * r.sigma**2) for r in gaussians) + sum(r.epsilon**2 / 8 for r in selections)
    budget = rho_from_epsilon_delta(epsilon, 1e-6)
    # the exact sampler may round sigma up onto a short dyadic grid: spending can only fall short, by < 0.1%
    assert budget * (1 - 1e-3) <= recomputed <= budget * (1 + 1e-12)
    assert model.rho_spent == pytest.approx(recomputed, rel=1e-12)
    # each third of the budget goes where the paper says
    assert sum(1 / (2 * r.sigma**2) for r in gaussians[:4]) == pytest.approx(budget / 3, rel=1e-3)
    assert sum(1 / (2 * r.sigma**2) for r in gaussians[4:]) == pytest.approx(budget / 3, rel=1e-3)
    assert sum(r.epsilon**2 / 8 for r in selections) == pytest.approx(budget / 3, rel=1e-9)


def test_measurement_noise_has_the_recorded_scale():
    """Statistical: the 1-way noisy totals scatter around n with the variance the records claim."""
    real = pa.table({"a": np.zeros(500, dtype=np.int64)})
    spec = {"a": {"categories": [0, 1]}}
    estimates = []
    for seed in range(300):
        model = fit_mst(real, spec, epsilon=1.0, delta=1e-6, rng=np.random.default_rng(seed), iterations=0)
        estimates.append(model.tree.total)
    sigma = model.noise[0].sigma
    # the total is estimated from the single 1-way measurement: noise variance 2 sigma^2 (two cells)
    expected_std = math.sqrt(2) * sigma
    assert abs(np.mean(estimates) - 500) < 4 * expected_std / math.sqrt(300)
    assert np.std(estimates) == pytest.approx(expected_std, rel=0.15)


def _mixed_table(rows: int) -> pa.Table:
    rng = np.random.default_rng(9)
    return pa.table({
        "colour": pa.array(rng.choice(["red", "green", "blue"], rows)),
        "age": pa.array(rng.integers(18, 90, rows), pa.int32()),
        "score": pa.array(rng.normal(50, 10, rows)),
        "joined": pa.array(rng.integers(18000, 19000, rows).astype(np.int32)).cast(pa.date32()),
        "active": pa.array(rng.random(rows) < 0.3),
        "note": pa.array([None if i % 4 == 0 else "x" for i in range(rows)], pa.string()),
    })


MIXED_COLUMNS = {
    "colour": {"categories": ["red", "green", "blue"]},
    "age": {"bounds": (18, 89)},
    "score": {"bounds": (0.0, 100.0), "bins": 10},
    "joined": {"bounds": ("2019-04-14", "2022-01-08")},
    "note": {"categories": ["x", "y"], "nullable": True},
}


def test_output_has_the_input_schema_types_and_row_count():
    real = _mixed_table(2000)
    result = synthesize(real, {"epsilon": 1.0, "delta": 1e-9}, MIXED_COLUMNS, rows=777, seed=1)
    synthetic = result.table
    assert synthetic.schema == real.schema
    assert synthetic.num_rows == 777
    assert set(synthetic.column("colour").to_pylist()) <= {"red", "green", "blue"}
    ages = synthetic.column("age").to_numpy()
    assert ages.min() >= 18 and ages.max() <= 89
    scores = synthetic.column("score").to_numpy()
    assert scores.min() >= 0 and scores.max() <= 100
    assert synthetic.column("note").null_count > 0  # a quarter of the real rows are missing
    assert result.rho == pytest.approx(rho_from_epsilon_delta(1.0, 1e-9), rel=1e-3)
    same = result.model.sample(777, rng=np.random.default_rng(1))
    assert same.equals(synthetic)  # the seed makes sampling reproducible


@pytest.mark.parametrize("epsilon", [0.05, 1e4])
def test_schema_and_row_count_hold_at_any_epsilon(epsilon):
    real = _mixed_table(1000)
    synthetic = synthesize(real, {"epsilon": epsilon}, MIXED_COLUMNS, rows=321, seed=2).table
    assert synthetic.schema == real.schema and synthetic.num_rows == 321
    assert set(synthetic.column("colour").to_pylist()) <= {"red", "green", "blue"}
    assert set(synthetic.column("note").to_pylist()) <= {"x", "y", None}


def test_default_row_count_is_the_noisy_count():
    real = _chain(5000, seed=10)
    synthetic = synthesize(real, {"epsilon": 2.0}, CHAIN_SPEC, seed=0).table
    assert abs(synthetic.num_rows - 5000) < 200


def test_a_column_constant_in_the_data_but_not_in_its_domain_works():
    real = pa.table({"a": np.ones(3000, dtype=np.int64), "b": np.arange(3000) % 2})
    synthetic = synthesize(real, {"epsilon": 10.0}, {"a": {"categories": [0, 1, 2]}, "b": {"categories": [0, 1]}},
                           rows=1000, seed=0).table
    assert (synthetic.column("a").to_numpy() == 1).mean() > 0.95


@pytest.mark.parametrize(
    ("columns", "where"),
    [
        ({"A": {"categories": [0, 1, 2]}, "B": {"categories": [0, 1, 2]}}, "columns.C"),  # C undeclared
        ({**CHAIN_SPEC, "C": {"categories": [1]}}, "columns.C"),  # one declared value
        ({**CHAIN_SPEC, "C": {"bounds": (2, 2)}}, "columns.C"),  # constant by its bounds
    ],
)
def test_bad_domains_are_input_errors(columns, where):
    with pytest.raises(JaneDoeInputError) as caught:
        synthesize(_chain(100, seed=0), {"epsilon": 1.0}, columns)
    assert caught.value.where == where
    assert "\n" not in str(caught.value)


def test_records_outside_the_domain_are_dropped_and_an_empty_table_still_fits():
    """The fit is charged before the data is read: no record may make it fail (domain.py drops what does not fit)."""
    spec = {"A": {"categories": [0, 1, 2]}, "B": {"categories": [0, 1]}}
    odd = pa.table({"A": pa.array([0, None, 1, 7] * 500), "B": pa.array([0, 1, 1, 0] * 500)})
    model = fit_mst(odd, spec, epsilon=1e5, delta=1e-9, rng=np.random.default_rng(1))
    assert model.estimated_rows == pytest.approx(1000, abs=3)  # only the (0, 0) and (1, 1) records count
    empty = fit_mst(_chain(0, seed=0), CHAIN_SPEC, epsilon=1.0, delta=1e-9)
    assert empty.sample(10, 0).schema == _chain(0, seed=0).schema


def test_bad_budgets_are_input_errors():
    for epsilon, delta in [(0.0, 1e-9), (-1.0, 1e-9), (float("nan"), 1e-9), (1.0, 0.0), (1.0, 1.0), (1e6, 1e-9)]:
        with pytest.raises(JaneDoeInputError):
            fit_mst(_chain(100, seed=0), CHAIN_SPEC, epsilon=epsilon, delta=delta)
    with pytest.raises(JaneDoeInputError, match="too small"):
        fit_mst(_chain(100, seed=0), CHAIN_SPEC, epsilon=1e-5, delta=1e-9)
    with pytest.raises(JaneDoeInputError, match="mst or aim"):
        synthesize(_chain(100, seed=0), {"method": "ctgan", "epsilon": 1.0}, CHAIN_SPEC)


def test_a_single_column_gets_the_whole_budget_for_its_one_way_marginal():
    real = pa.table({"only": np.arange(4000) % 5})
    model = fit_mst(real, {"only": {"categories": [0, 1, 2, 3, 4]}}, epsilon=1.0, delta=1e-9,
                    rng=np.random.default_rng(0))
    assert model.edges == () and [r.mechanism for r in model.noise] == ["discrete_gaussian"]
    assert 1 / (2 * model.noise[0].sigma ** 2) == pytest.approx(rho_from_epsilon_delta(1.0, 1e-9), rel=1e-3)
    shares = np.bincount(model.sample(5000, rng=1).column("only").to_numpy(), minlength=5) / 5000
    np.testing.assert_allclose(shares, 0.2, atol=0.03)


def test_a_batch_source_gives_the_same_model_as_the_whole_table():
    real = _four_columns(5000, seed=11)
    whole = fit_mst(real, FOUR_SPEC, epsilon=1.0, delta=1e-9, rng=np.random.default_rng(12))
    reads = []

    def batches():
        reads.append(1)
        return iter(real.to_batches(max_chunksize=777))

    streamed = fit_mst(batches, FOUR_SPEC, epsilon=1.0, delta=1e-9, schema=real.schema, rng=np.random.default_rng(12))
    assert len(reads) == 1  # one pass (the pairwise tables are small), no copy of the rows kept
    assert streamed.edges == whole.edges and streamed.noise == whole.noise
    assert streamed.sample(1000, rng=1).equals(whole.sample(1000, rng=1))
    # pairwise tables too big for one pass: a second pass counts on the compressed cells, to the same model
    two_pass = fit_mst(batches, FOUR_SPEC, epsilon=1.0, delta=1e-9, schema=real.schema, rng=np.random.default_rng(12),
                       one_pass_cells=0)
    assert len(reads) == 3
    assert two_pass.noise == whole.noise and two_pass.sample(1000, rng=1).equals(whole.sample(1000, rng=1))

    changing = iter([real.to_batches(), real.slice(0, 10).to_batches()])
    with pytest.raises(JaneDoeInputError, match="changed"):
        fit_mst(lambda: next(changing), FOUR_SPEC, epsilon=1.0, delta=1e-9, schema=real.schema, one_pass_cells=0)
