"""AIM end to end: a 3-way dependency a tree cannot hold, exactness at huge epsilon, accounting, size limit, schema."""

import datetime as dt
import itertools
import math

import numpy as np
import pyarrow as pa
import pytest
from janedoe.dp_noise import rho_from_epsilon_delta
from janedoe.errors import JaneDoeInputError
from janedoe.policy import SyntheticSection
from janedoe.synthetic import fit_aim, fit_mst, synthesize
from janedoe.synthetic.junction_tree import JunctionTree
from pydantic import ValidationError

XOR_SPEC = {name: {"categories": [0, 1, 2]} for name in "ABCD"}


def _xor_table(rows: int, seed: int) -> pa.Table:
    """C = (A + B) mod 3 most of the time: every pair is (nearly) independent, the triple is not. D follows A."""
    rng = np.random.default_rng(seed)
    a, b = rng.integers(0, 3, rows), rng.integers(0, 3, rows)
    c = np.where(rng.random(rows) < 0.9, (a + b) % 3, rng.integers(0, 3, rows))
    d = np.where(rng.random(rows) < 0.6, a, rng.integers(0, 3, rows))
    return pa.table({"A": a, "B": b, "C": c, "D": d})


def _shares(table: pa.Table, columns: tuple[str, ...]) -> np.ndarray:
    """Independent marginal: a dense histogram built with np.add.at (not the code under test)."""
    counts = np.zeros((3,) * len(columns))
    np.add.at(counts, tuple(table.column(c).to_numpy() for c in columns), 1)
    return counts / table.num_rows


def _tv(x: pa.Table, y: pa.Table, columns: tuple[str, ...]) -> float:
    return 0.5 * float(np.abs(_shares(x, columns) - _shares(y, columns)).sum())


def test_large_epsilon_reproduces_marginals_and_beats_mst_on_a_three_way_dependency():
    real = _xor_table(6000, seed=1)
    aim = fit_aim(real, XOR_SPEC, epsilon=200.0, delta=1e-9, rng=np.random.default_rng(2))
    aim_synthetic = aim.sample(6000, rng=3)
    mst_synthetic = fit_mst(real, XOR_SPEC, epsilon=200.0, delta=1e-9, rng=np.random.default_rng(2)).sample(6000, 3)
    # the triple was measured: some clique of the model holds A, B and C
    assert any({0, 1, 2} <= set(clique) for clique in aim.model.tree.cliques)
    for pair in itertools.combinations("ABCD", 2):
        assert _tv(real, aim_synthetic, pair) < 0.03, pair
    aim_triple = _tv(real, aim_synthetic, ("A", "B", "C"))
    mst_triple = _tv(real, mst_synthetic, ("A", "B", "C"))
    assert aim_triple < 0.04
    assert mst_triple > 0.3  # a spanning tree over pairwise-independent columns misses the triple entirely
    assert aim_triple <= mst_triple


def test_budget_spent_recomputed_from_the_noise_equals_the_budget():
    epsilon, delta = 2.0, 1e-8
    budget = rho_from_epsilon_delta(epsilon, delta)
    model = fit_aim(_xor_table(3000, seed=4), XOR_SPEC, epsilon=epsilon, delta=delta, rng=np.random.default_rng(5))
    gaussians = [r for r in model.noise if r.mechanism == "discrete_gaussian"]
    selections = [r for r in model.noise if r.mechanism == "exponential"]
    recomputed = sum(1 / (2 * r.sigma**2) for r in gaussians) + sum(r.epsilon**2 / 8 for r in selections)
    assert recomputed == pytest.approx(budget, rel=1e-9)
    assert model.rho_spent == pytest.approx(budget, rel=1e-9)
    # AIM's schedule: four 1-way measurements at sigma = sqrt(T / (2 * 0.9 rho)) with T = 16 columns rounds
    # (rounded up onto the exact sampler's grid), then alternating selection and measurement
    assert [r.columns for r in gaussians[:4]] == [("A",), ("B",), ("C",), ("D",)]
    for record in gaussians[:4]:
        assert record.sigma == pytest.approx(math.sqrt(64 / (2 * 0.9 * budget)), rel=1e-4)
        assert record.sigma >= math.sqrt(64 / (2 * 0.9 * budget))
    rounds = model.noise[4:]
    assert [r.mechanism for r in rounds] == ["exponential", "discrete_gaussian"] * (len(rounds) // 2)
    assert all(s.columns == g.columns for s, g in zip(rounds[::2], rounds[1::2], strict=True))
    assert len(selections) <= 64 + 4  # annealing only ever makes rounds costlier, never more numerous than planned


def test_the_junction_tree_stays_under_the_size_limit_and_a_too_large_domain_is_refused():
    rng = np.random.default_rng(7)
    p, r = rng.integers(0, 40, 2000), rng.integers(0, 40, 2000)
    q = np.where(rng.random(2000) < 0.8, p, rng.integers(0, 40, 2000))
    s = np.where(rng.random(2000) < 0.8, r, rng.integers(0, 40, 2000))
    wide = pa.table({"P": p, "Q": q, "R": r, "S": s})
    spec = {name: {"categories": list(range(40))} for name in "PQRS"}
    limit_mb = 0.1  # 13,107 float64 cells: any 2-way (1,600 cells) fits, no 3-way (64,000 cells) does
    model = fit_aim(wide, spec, epsilon=50.0, delta=1e-9, max_model_mb=limit_mb, rng=np.random.default_rng(8))
    assert model.model.tree.nbytes <= limit_mb * 2**20
    assert all(len(clique) <= 2 for clique in model.model.tree.cliques)
    assert {(0, 1), (2, 3)} <= set(model.model.tree.cliques)  # the dependent pairs were measured
    with pytest.raises(JaneDoeInputError, match="too large for AIM's model size limit") as error:
        fit_aim(wide, spec, epsilon=1.0, delta=1e-9, max_model_mb=0.01)
    assert error.value.where == "synthetic.max_model_mb"
    with pytest.raises(JaneDoeInputError, match="size limit"):
        synthesize(wide, {"method": "aim", "epsilon": 1.0, "max_model_mb": 0.01}, spec)


def test_the_policy_section_size_limit_reaches_aim():
    """synthetic.max_model_mb in a policy bounds the fitted junction tree; an impossible one is refused."""
    rng = np.random.default_rng(11)
    p, r = rng.integers(0, 40, 2000), rng.integers(0, 40, 2000)
    q = np.where(rng.random(2000) < 0.8, p, rng.integers(0, 40, 2000))
    wide = pa.table({"P": p, "Q": q, "R": r})
    spec = {name: {"categories": list(range(40))} for name in "PQR"}
    section = SyntheticSection(method="aim", epsilon=50.0, max_model_mb=0.1)
    result = synthesize(wide, section, spec, seed=3)
    assert result.model.model.tree.nbytes <= 0.1 * 2**20  # the default (megabytes) would allow the 3-way clique
    assert all(len(clique) <= 2 for clique in result.model.model.tree.cliques)
    with pytest.raises(JaneDoeInputError, match="size limit"):
        synthesize(wide, SyntheticSection(method="aim", epsilon=1.0, max_model_mb=0.01), spec)
    with pytest.raises(ValidationError):
        SyntheticSection(method="aim", epsilon=1.0, max_model_mb=0)
    assert SyntheticSection(method="aim", epsilon=1.0).max_model_mb is None


def test_junction_tree_marginals_are_consistent_across_cliques():
    """Two cliques sharing a separator report the same separator marginal, and project() matches brute force."""
    sizes = (2, 3, 2, 3)
    tree = JunctionTree(sizes, [(0, 1), (1, 2), (2, 3)])
    rng = np.random.default_rng(9)
    potentials = [rng.normal(size=shape) for shape in tree.shapes]
    marginals = [np.exp(x) for x in tree.calibrate(potentials)]
    linear = tree.clique_marginals(potentials)  # the fast path mirror descent uses
    joint = np.zeros(sizes)
    for index in itertools.product(*(range(s) for s in sizes)):
        joint[index] = math.exp(sum(p[tuple(index[a] for a in clique)]
                                    for p, clique in zip(potentials, tree.cliques, strict=True)))
    joint /= joint.sum()
    for clique, marginal in zip(tree.cliques, marginals, strict=True):
        expected = joint.sum(axis=tuple(a for a in range(4) if a not in clique))
        np.testing.assert_allclose(marginal, expected, rtol=1e-9)
    for clique, marginal in zip(tree.cliques, linear, strict=True):
        np.testing.assert_allclose(marginal, joint.sum(axis=tuple(a for a in range(4) if a not in clique)), rtol=1e-9)
    np.testing.assert_allclose(tree.project(marginals, (0, 3)), joint.sum(axis=(1, 2)), rtol=1e-9)


def test_schema_types_and_row_count_through_synthesize():
    rng = np.random.default_rng(10)
    rows = 500
    real = pa.table({
        "age": pa.array(rng.integers(18, 90, rows), pa.int32()),
        "income": pa.array(rng.uniform(0, 1e5, rows)),
        "city": pa.array(rng.choice(["north", "south", "east"], rows)),
        "member": pa.array(rng.random(rows) < 0.3),
        "joined": pa.array(rng.integers(0, 3000, rows), pa.int32()).cast(pa.date32()),
    })
    spec = {"age": {"bounds": [18, 90], "bins": 8}, "income": {"bounds": [0, 1e5], "bins": 5},
            "city": {"categories": ["north", "south", "east"]}, "member": {},
            "joined": {"bounds": ["1970-01-01", "1978-03-15"], "bins": 6}}
    result = synthesize(real, {"method": "aim", "epsilon": 1.0, "rows": 321}, spec, seed=11)
    assert result.method == "aim"
    assert result.table.schema == real.schema
    assert result.table.num_rows == 321
    assert result.rho == pytest.approx(rho_from_epsilon_delta(1.0, 1e-9), rel=1e-9)
    ages = result.table.column("age").to_numpy()
    assert ages.min() >= 18 and ages.max() <= 90
    joined = result.table.column("joined").to_pylist()
    assert min(joined) >= dt.date(1970, 1, 1) and max(joined) <= dt.date(1978, 3, 15)
    assert set(result.table.column("city").to_pylist()) <= {"north", "south", "east"}
    empty = fit_aim(real.slice(0, 0), spec, epsilon=1.0, delta=1e-9)  # noise only: nothing to refuse after a charge
    assert empty.sample(5, 0).schema == real.schema
