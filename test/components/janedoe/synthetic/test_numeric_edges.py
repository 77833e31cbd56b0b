"""MST with private bins: an edge beyond the tree among the numeric columns, chosen and paid inside the same budget."""

import itertools

import numpy as np
import pyarrow as pa
import pytest
from janedoe.dp_noise import rho_from_epsilon_delta
from janedoe.synthetic import build_domain, fit_mst, synthesize
from janedoe.synthetic.dp_binning import measure_private_bins, private_domain_options
from janedoe.synthetic.marginal_source import marginal_source
from janedoe.synthetic.mst import numeric_focus

COLUMNS = {"a": {"bounds": [0, 399]}, "b": {"bounds": [0, 399]}, "c": {"bounds": [-420, 420]},
           "g": {"categories": ["hi", "lo"]}}


def _triangle(rows: int = 4000) -> pa.Table:
    """a and b independent, c = a - b: a tree through c makes a and b look related; only the third edge says not."""
    rng = np.random.default_rng(0)
    a, b = rng.integers(0, 400, rows), rng.integers(0, 400, rows)
    return pa.table({"a": a, "b": b, "c": a - b + rng.integers(-10, 11, rows), "g": np.where(a > 200, "hi", "lo")})


def _pair_tv(real: pa.Table, synthetic: pa.Table, first: str, second: str) -> float:
    edges = [np.quantile(real.column(name).to_numpy(), np.arange(1, 5) / 5) for name in (first, second)]

    def joint(table: pa.Table) -> np.ndarray:
        cells = [np.searchsorted(cuts, table.column(name).to_numpy(), side="right")
                 for cuts, name in zip(edges, (first, second), strict=True)]
        return np.bincount(cells[0] * 5 + cells[1], minlength=25) / table.num_rows

    return 0.5 * float(np.abs(joint(real) - joint(synthetic)).sum())


def test_only_private_bins_bring_the_numeric_pairs_and_the_rounds_no_tree_can_hold():
    schema = _triangle(10).schema
    private = build_domain(schema, COLUMNS, **private_domain_options("private", None))
    assert numeric_focus(private) == ([(0, 1), (0, 2), (1, 2)], 1)
    assert numeric_focus(build_domain(schema, COLUMNS, **private_domain_options("uniform", None))) == ([], 0)


def test_the_pair_a_tree_loses_is_added_and_the_budget_still_adds_up():
    real = _triangle()
    epsilon, delta = 4.0, 1e-9
    result = synthesize(real, {"method": "mst", "epsilon": epsilon, "delta": delta}, COLUMNS, seed=1)
    model = result.model
    assert len(model.extra_edges) == 1 and model.graph is not None
    numeric_pairs = {frozenset(p) for p in itertools.combinations("abc", 2)}
    assert numeric_pairs <= {frozenset(e) for e in (*model.edges, *model.extra_edges)}
    assert sum(r.mechanism == "exponential" for r in model.noise) == len(model.edges) + 1
    budget = rho_from_epsilon_delta(epsilon, delta)
    assert budget * (1 - 1e-3) <= model.rho_spent <= budget * (1 + 1e-12)
    assert max(_pair_tv(real, result.table, *p) for p in itertools.combinations("abc", 2)) < 0.1


@pytest.mark.parametrize("seed", [0, 1])
def test_without_the_extra_edge_the_independent_pair_comes_out_related(seed):
    """The same private bins and noise: the tree alone (no extra rounds) gets a-b wrong, the extra edge fixes it."""
    real = _triangle()
    source = marginal_source(real, None)
    binned = measure_private_bins(source, build_domain(real.schema, COLUMNS, **private_domain_options("private", None)),
                                  epsilon=4.0, delta=1e-9, rng=np.random.default_rng(seed))
    worst = {}
    for extra in (4, 0):
        model = fit_mst(source, binned.domain, epsilon=binned.epsilon, delta=1e-9, target_edges=extra,
                        rng=np.random.default_rng(seed))
        synthetic = model.sample(real.num_rows, np.random.default_rng(seed))
        worst[extra] = max(_pair_tv(real, synthetic, *p) for p in itertools.combinations("abc", 2))
    assert worst[4] < 0.1 < 0.13 < worst[0]
