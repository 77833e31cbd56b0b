"""Private bins for numeric and date columns: paid from the synthesizer's budget, never read from data for free,
values in bounds and of the column's type, bins that follow the data's mass."""

import datetime as dt
import math

import numpy as np
import pyarrow as pa
import pyarrow.compute as pc
import pytest
from janedoe.dp_noise import rho_from_epsilon_delta
from janedoe.errors import JaneDoeInputError
from janedoe.policy import SyntheticSection
from janedoe.synthetic import build_domain, check_synthesis, fit_synthesis_model, synthesize
from janedoe.synthetic.domain import encode_column
from janedoe.synthetic.dp_binning import BINNING_SHARE, bin_starts_from_histogram, fine_weights, measure_private_bins
from janedoe.synthetic.marginal_source import BatchMarginalSource
from janedoe.synthetic.within_bin import draw_grid_cells
from pydantic import ValidationError

COLUMNS = {
    "wage": {"bounds": [0, 20000]},
    "years": {"bounds": [-4, 63]},
    "day": {"bounds": ["2020-01-01", "2024-12-31"]},
    "group": {"categories": ["a", "b", "c"]},
}


def _people(rows: int, seed: int) -> pa.Table:
    rng = np.random.default_rng(seed)
    years = rng.integers(0, 45, rows)
    wage = np.clip(rng.lognormal(5.3 + 0.02 * years, 0.6), 0, 20000)  # skewed, and related to years
    day = pa.array(rng.integers(18262, 18262 + 1500, rows).astype(np.int32)).cast(pa.date32())
    group = pa.array(np.array(["a", "b", "c"], dtype=object)[rng.integers(0, 3, rows)])
    return pa.table({"wage": wage, "years": pa.array(years, pa.int64()), "day": day, "group": group})


class _RecordingSource(BatchMarginalSource):
    """The real in-process counting, remembering the queries it answered."""

    def __init__(self, table: pa.Table) -> None:
        super().__init__(lambda: table.to_batches(), table.schema)
        object.__setattr__(self, "queries", [])

    def count(self, query):
        self.queries.append(query)
        return super().count(query)


@pytest.mark.parametrize("method", ["mst", "aim"])
def test_spent_rho_recomputed_from_the_noise_scales_is_the_budget(method):
    epsilon, delta = 2.0, 1e-8
    budget = rho_from_epsilon_delta(epsilon, delta)
    result = synthesize(_people(3000, seed=1), {"method": method, "epsilon": epsilon, "delta": delta}, COLUMNS,
                        rows=100, seed=2)
    model = result.model
    binning = [r for r in model.noise if r.columns in (("wage",), ("years",), ("day",))][:3]
    assert [r.columns for r in model.noise[:3]] == [("wage",), ("years",), ("day",)]
    assert binning == list(model.noise[:3])
    # the bins: BINNING_SHARE of rho over the three numeric columns (sigma rounded up onto the sampler's grid)
    for record in binning:
        assert record.sigma >= math.sqrt(3 / (2 * BINNING_SHARE * budget))
        assert 1 / (2 * record.sigma**2) == pytest.approx(BINNING_SHARE * budget / 3, rel=1e-3)
    recomputed = sum(1 / (2 * r.sigma**2) if r.mechanism == "discrete_gaussian" else r.epsilon**2 / 8
                     for r in model.noise)
    assert model.rho_spent == pytest.approx(recomputed, rel=1e-12)
    assert (result.epsilon, result.delta, model.rho) == (epsilon, delta, budget)
    if method == "aim":  # AIM's last round takes exactly what is left
        assert recomputed == pytest.approx(budget, rel=1e-9)
    else:  # MST's sigmas are rounded up onto the exact sampler's grid: it can only fall short, by < 0.1%
        assert budget * (1 - 1e-3) <= recomputed <= budget * (1 + 1e-12)


@pytest.mark.parametrize("section", [{"method": "mst", "epsilon": 1.0, "discretize": "uniform"},
                                     {"method": "aim", "epsilon": 1.0, "discretize": "uniform"},
                                     {"method": "mst", "epsilon": 1.0}])
def test_no_budget_goes_to_bins_when_none_are_chosen_privately(section):
    # discretize: uniform, or (the default) declared bins and an integer range that fits in the bins: nothing measured
    columns = dict(COLUMNS)
    real = _people(2000, seed=3)
    if "discretize" not in section:
        columns["wage"] = {"bounds": [0, 20000], "bins": 8}
        columns["day"] = {"bounds": ["2020-01-01", "2024-12-31"], "bins": 12}
        columns["years"] = {"bounds": [0, 44]}  # 45 values, more than the 16 bins but at most 64: one cell each
    source = _RecordingSource(real)
    model = fit_synthesis_model(source, section, columns)
    # every query the data answered was on the declared cells: no fine histogram was counted
    assert all(column.grid == 0 for query in source.queries for column in query.domain.columns)
    assert all(column.grid == 0 for column in model.domain.columns)
    assert model.domain.columns[1].cells == (64 if "discretize" in section else 45)
    # the method's own 1-way measurements come first and were sized from the whole budget
    budget = rho_from_epsilon_delta(1.0, 1e-9)
    assert [r.columns for r in model.noise[:4]] == [("wage",), ("years",), ("day",), ("group",)]
    planned = math.sqrt(4 / (2 * budget / 3)) if section["method"] == "mst" else math.sqrt(64 / (2 * 0.9 * budget))
    assert model.noise[0].sigma == pytest.approx(planned, rel=1e-3)


def test_bins_come_only_from_the_one_noisy_histogram():
    real = _people(4000, seed=4)
    domain = build_domain(real.schema, COLUMNS, discretize="private")
    assert [c.needs_private_bins for c in domain.columns] == [True, True, True, False]
    source = _RecordingSource(real)
    binned = measure_private_bins(source, domain, epsilon=1.0, delta=1e-9, rng=np.random.default_rng(5))
    # one pass: the 1-way histograms on the fine grids (1024 cells, or one per value of the 68-value range)
    (query,) = source.queries
    assert query.marginals == ((0,), (1,), (2,))
    assert query.shapes == [(1024,), (68,), (1024,)]
    assert [r.columns for r in binned.noise] == [("wage",), ("years",), ("day",)]
    assert not any(c.needs_private_bins for c in binned.domain.columns)
    assert binned.epsilon < 1.0 and rho_from_epsilon_delta(binned.epsilon, 1e-9) <= (
        rho_from_epsilon_delta(1.0, 1e-9) - sum(r.rho for r in binned.noise))
    # a domain still waiting for its bins cannot be used to read data
    with pytest.raises(ValueError, match="not measured"):
        encode_column(real.column("wage"), domain.columns[0])


def test_skewed_wages_spread_over_private_bins_but_pile_up_in_equal_width_ones():
    real = _people(20000, seed=6)
    wages = real.column("wage")
    uniform = build_domain(real.schema, COLUMNS).columns[0]
    binned = measure_private_bins(BatchMarginalSource(lambda: real.to_batches(), real.schema),
                                  build_domain(real.schema, COLUMNS, discretize="private"), epsilon=1.0, delta=1e-9,
                                  rng=np.random.default_rng(7)).domain.columns[0]
    uniform_share = np.bincount(encode_column(wages, uniform), minlength=uniform.cells).max() / real.num_rows
    private_share = np.bincount(encode_column(wages, binned), minlength=binned.cells).max() / real.num_rows
    assert uniform_share > 0.8
    assert private_share <= 0.25
    assert binned.cells == 16 and len(set(binned.bin_starts)) == 16


@pytest.mark.parametrize("method", ["mst", "aim"])
def test_values_stay_in_bounds_and_keep_their_types(method):
    columns = {**COLUMNS, "when": {"bounds": ["2021-01-01T00:00:00", "2021-12-31T23:59:59"]}}
    real = _people(3000, seed=8)
    rng = np.random.default_rng(9)
    stamps = pa.array(rng.integers(1609459200, 1609459200 + 365 * 86400, 3000) * 1_000_000).cast(pa.timestamp("us"))
    real = real.append_column("when", stamps)
    result = synthesize(real, {"method": method, "epsilon": 1.0}, columns, rows=4000, seed=10)
    table = result.table
    assert table.schema == real.schema and table.num_rows == 4000
    wage = table.column("wage").to_numpy()
    years = table.column("years").to_numpy()
    assert wage.dtype == np.float64 and 0 <= wage.min() and wage.max() <= 20000
    assert years.dtype == np.int64 and -4 <= years.min() and years.max() <= 63
    days = table.column("day").to_pylist()
    assert min(days) >= dt.date(2020, 1, 1) and max(days) <= dt.date(2024, 12, 31)
    when = table.column("when").to_pylist()
    assert min(when) >= dt.datetime(2021, 1, 1) and max(when) <= dt.datetime(2021, 12, 31, 23, 59, 59)
    assert table.column("day").null_count == 0 and set(table.column("group").to_pylist()) <= {"a", "b", "c"}


def test_synthetic_wages_follow_the_real_quantiles_at_large_epsilon():
    real = _people(20000, seed=11)
    result = synthesize(real, {"method": "mst", "epsilon": 50.0}, COLUMNS, rows=20000, seed=12)
    levels = [0.1, 0.25, 0.5, 0.75, 0.9]
    synthetic_q = np.quantile(result.table.column("wage").to_numpy(), levels)
    real_q = np.quantile(real.column("wage").to_numpy(), levels)
    # equal-width bins (625 wide) would put every quantile below 625 at a uniform draw in [0, 625)
    np.testing.assert_allclose(synthetic_q, real_q, rtol=0.05)
    # and the relation between years and wage survives: the correlation of the logs
    real_r = np.corrcoef(real.column("years").to_numpy(), np.log(real.column("wage").to_numpy()))[0, 1]
    synthetic_r = np.corrcoef(result.table.column("years").to_numpy(),
                              np.log(result.table.column("wage").to_numpy()))[0, 1]
    assert synthetic_r == pytest.approx(real_r, abs=0.06)


def test_nullable_numeric_column_keeps_its_null_share_with_private_bins():
    real = _people(6000, seed=13)
    missing = np.random.default_rng(14).random(6000) < 0.3
    real = real.set_column(0, "wage", pc.if_else(pa.array(missing), pa.nulls(6000, pa.float64()), real.column("wage")))
    columns = {**COLUMNS, "wage": {"bounds": [0, 20000], "nullable": True}}
    result = synthesize(real, {"method": "mst", "epsilon": 20.0}, columns, rows=6000, seed=15)
    assert result.model.domain.columns[0].grid == 1024
    assert result.table.column("wage").null_count / 6000 == pytest.approx(0.3, abs=0.03)


def test_bin_edges_are_strictly_increasing_and_the_last_bin_holds_the_last_mass():
    weights = np.zeros(100)
    weights[[3, 4, 5, 40]] = [500.0, 300.0, 100.0, 5.0]
    starts = bin_starts_from_histogram(weights, 6)
    assert starts[0] == 0 and np.all(np.diff(starts) >= 1) and len(starts) == 6
    assert starts[-1] <= 40  # cell 40 is in the last bin, not past an empty stretch
    # more bins than cells with mass: still six distinct bins
    assert len(set(bin_starts_from_histogram(np.eye(1, 50, 10).ravel(), 6))) == 6
    # nothing to go by: equal-width
    assert list(bin_starts_from_histogram(np.zeros(12), 4)) == [0, 3, 6, 9]


def test_fine_weights_drop_the_noise_of_empty_stretches_but_keep_thin_mass():
    rng = np.random.default_rng(16)
    sigma = 20.0
    exact = np.zeros(1024)
    exact[:20] = 1000.0  # dense head
    exact[512:] = 10.0  # thin but wide: 5120 rows, each cell far below 3 sigma
    noisy = exact + np.round(rng.normal(0, sigma, 1024))
    weights = fine_weights(noisy, sigma)
    assert weights.sum() == pytest.approx(1.0)
    assert weights[20:512].sum() < 0.01  # the empty stretch gets (almost) nothing
    assert weights[512:].sum() == pytest.approx(5120 / 25120, abs=0.03)
    assert weights[:20].sum() == pytest.approx(20000 / 25120, abs=0.03)


def test_values_inside_a_bin_follow_the_fine_weights():
    starts = np.array([0, 4, 6])
    weights = np.array([0.1, 0.0, 0.3, 0.2, 0.0, 0.0, 0.25, 0.15])  # bin 1 has no mass: uniform over its two cells
    bins = np.repeat([0, 1, 2], 30000)
    cells = draw_grid_cells(bins, starts, weights, np.random.default_rng(17))
    share = np.bincount(cells[:30000], minlength=8)[:4] / 30000
    np.testing.assert_allclose(share, [1 / 6, 0, 1 / 2, 1 / 3], atol=0.012)
    assert set(cells[30000:60000]) == {4, 5} and abs((cells[30000:60000] == 4).mean() - 0.5) < 0.012
    np.testing.assert_allclose(np.bincount(cells[60000:], minlength=8)[6:] / 30000, [0.625, 0.375], atol=0.012)


def test_policy_switches_and_refusals():
    assert SyntheticSection(epsilon=1.0).discretize == "private"
    assert SyntheticSection(epsilon=1.0, discretize="uniform", private_bins=24).private_bins == 24
    with pytest.raises(ValidationError):
        SyntheticSection(epsilon=1.0, discretize="quantiles")
    with pytest.raises(ValidationError):
        SyntheticSection(epsilon=1.0, private_bins=1)
    schema = _people(10, seed=18).schema
    with pytest.raises(JaneDoeInputError) as error:
        check_synthesis(schema, {"method": "mst", "epsilon": 1.0, "discretize": "median"}, COLUMNS)
    assert error.value.where == "synthetic.discretize"
    # a budget too small for the bins' noise is refused before anything is spent, naming epsilon
    with pytest.raises(JaneDoeInputError) as error:
        check_synthesis(schema, {"method": "mst", "epsilon": 1e-4}, COLUMNS)
    assert error.value.where == "epsilon"
    check_synthesis(schema, {"method": "aim", "epsilon": 1.0, "private_bins": 8}, COLUMNS)
