"""Target- and workload-aware synthesis: focus marginals are measured, the budget adds up, bad names are refused."""

import numpy as np
import pyarrow as pa
import pytest
from janedoe.dp_noise import rho_from_epsilon_delta
from janedoe.errors import JaneDoeInputError
from janedoe.policy import SyntheticSection
from janedoe.synthetic import fit_aim, fit_mst, synthesize
from janedoe.synthetic.workload import resolve_focus
from pydantic import ValidationError

SPEC = {name: {"categories": [0, 1, 2]} for name in "ABCY"}


def _table(rows: int, seed: int) -> pa.Table:
    """B mostly copies A; Y copies A or B: the tree takes A-B and one of Y's edges, and loses what the other adds."""
    rng = np.random.default_rng(seed)
    a, c = rng.integers(0, 3, rows), rng.integers(0, 3, rows)
    b = np.where(rng.random(rows) < 0.85, a, rng.integers(0, 3, rows))
    pick = rng.random(rows)
    y = np.where(pick < 0.35, a, np.where(pick < 0.7, b, rng.integers(0, 3, rows)))
    return pa.table({"A": a, "B": b, "C": c, "Y": y})


def _rho(model) -> float:
    return sum(1 / (2 * r.sigma**2) if r.mechanism == "discrete_gaussian" else r.epsilon**2 / 8 for r in model.noise)


def test_aim_measures_the_target_two_ways_first_and_spends_exactly_the_budget():
    epsilon, delta = 1.0, 1e-8
    budget = rho_from_epsilon_delta(epsilon, delta)
    model = fit_aim(_table(2000, 1), SPEC, epsilon=epsilon, delta=delta, target="Y", rng=np.random.default_rng(2))
    # the four 1-ways, then Y against every other column, all before the first selection
    first = [r.columns for r in model.noise[:7]]
    assert first == [("A",), ("B",), ("C",), ("Y",), ("A", "Y"), ("B", "Y"), ("C", "Y")]
    assert all(r.mechanism == "discrete_gaussian" for r in model.noise[:7])
    assert model.noise[7].mechanism == "exponential"
    assert set(first) <= set(model.measured)
    assert _rho(model) == pytest.approx(budget, rel=1e-9)
    assert model.rho_spent == pytest.approx(budget, rel=1e-9)


def test_aim_measures_an_explicit_workload_first():
    model = fit_aim(_table(2000, 3), SPEC, epsilon=1.0, delta=1e-8, workload=[["A", "Y"], ["B", "C", "Y"]],
                    rng=np.random.default_rng(4))
    first = [r.columns for r in model.noise[4:8]]
    assert first == [("A", "Y"), ("B", "C"), ("B", "Y"), ("C", "Y")]
    assert model.noise[8].mechanism == "exponential"
    assert _rho(model) == pytest.approx(rho_from_epsilon_delta(1.0, 1e-8), rel=1e-9)


def test_target_aware_mst_adds_measured_target_edges_within_the_budget():
    epsilon, delta = 2.0, 1e-8
    budget = rho_from_epsilon_delta(epsilon, delta)
    real = _table(3000, 5)
    model = fit_mst(real, SPEC, epsilon=epsilon, delta=delta, target="Y", target_edges=2,
                    rng=np.random.default_rng(6))
    # as many extra edges as asked for, unless the tree already holds all but fewer of Y's three pairs
    assert len(model.edges) == 3 and len(model.extra_edges) == min(2, 3 - sum("Y" in e for e in model.edges))
    tree = {frozenset(e) for e in model.edges}
    for edge in model.extra_edges:
        assert "Y" in edge and frozenset(edge) not in tree
    gaussians = [r.columns for r in model.noise if r.mechanism == "discrete_gaussian"]
    selections = [r.columns for r in model.noise if r.mechanism == "exponential"]
    assert selections[3:] == list(model.extra_edges)
    assert gaussians[-len(model.extra_edges):] == list(model.extra_edges)  # the extra edges are measured, last
    assert budget * (1 - 1e-3) <= _rho(model) <= budget * (1 + 1e-12)
    synthetic = model.sample(3000, rng=7)
    assert synthetic.schema == real.schema and synthetic.num_rows == 3000
    assert model.graph is not None


def test_mst_without_target_is_unchanged_and_target_edges_help_prediction_of_y():
    real = _table(20000, 8)
    plain = fit_mst(real, SPEC, epsilon=50.0, delta=1e-8, rng=np.random.default_rng(9))
    assert plain.extra_edges == () and plain.graph is None
    assert frozenset("AB") in {frozenset(e) for e in plain.edges}
    aware = fit_mst(real, SPEC, epsilon=50.0, delta=1e-8, target="Y", target_edges=1, rng=np.random.default_rng(9))
    assert {frozenset(e) for e in (*aware.edges, *aware.extra_edges)} >= {frozenset("AY"), frozenset("BY")}

    def aby_error(model) -> float:
        """TV of P(A, B, Y) between the real and synthetic rows: needs Y joined to A and B at once."""
        synthetic = model.sample(100_000, rng=10)
        keys = [sum(t.column(n).to_numpy() * 3**i for i, n in enumerate("ABY")) for t in (real, synthetic)]
        shares = [np.bincount(k, minlength=27) / k.size for k in keys]
        return 0.5 * float(np.abs(shares[0] - shares[1]).sum())

    # the tree's P(Y | A, B) is P(Y | one of them): ~0.06 off; with both edges only sampling noise is left (~0.01)
    assert aby_error(aware) < 0.02 and aby_error(plain) > 0.04


@pytest.mark.parametrize(("options", "where"), [
    ({"target": "Z"}, "synthetic.target"),
    ({"target": ["Y", "Y"]}, "synthetic.target"),
    ({"workload": [["A", "B"], ["A", "nope"]]}, "synthetic.workload[1]"),
    ({"workload": [["A", "A"]]}, "synthetic.workload[0]"),
])
@pytest.mark.parametrize("method", ["mst", "aim"])
def test_an_unknown_or_repeated_column_is_refused_naming_the_field(options, where, method):
    with pytest.raises(JaneDoeInputError) as error:
        synthesize(_table(50, 0), {"method": method, "epsilon": 1.0, **options}, SPEC)
    assert error.value.where == where


def test_policy_section_reads_one_target_or_a_list_and_its_target_reaches_the_default_mst():
    assert SyntheticSection(epsilon=1.0, target="Y").target == ["Y"]
    assert SyntheticSection(epsilon=1.0, target=["Y", "A"]).target == ["Y", "A"]
    assert SyntheticSection(epsilon=1.0, workload=[["A", "B"]]).workload == [["A", "B"]]
    with pytest.raises(ValidationError):
        SyntheticSection(epsilon=1.0, workload=["A"])
    result = synthesize(_table(500, 11), SyntheticSection(epsilon=1.0, target="Y"), SPEC, seed=1)
    assert result.method == "mst" and result.model.extra_edges and all("Y" in e for e in result.model.extra_edges)
    aim = synthesize(_table(500, 11), SyntheticSection(method="aim", epsilon=1.0, target="Y", rows=20), SPEC)
    assert ("A", "Y") in aim.model.measured and aim.table.num_rows == 20


def test_focus_pairs_and_marginals():
    focus = resolve_focus(list("ABCY"), "Y", [["B", "A"]])
    assert focus.targets == (3,) and focus.workload == ((0, 1),)
    assert focus.pairs(4) == [(0, 3), (1, 3), (2, 3), (0, 1)]
    assert focus.marginals(4, 3) == [(0, 3), (1, 3), (2, 3), (0, 1, 3), (0, 2, 3), (1, 2, 3), (0, 1)]
    assert not resolve_focus(list("AB"))
