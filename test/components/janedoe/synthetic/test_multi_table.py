"""Related-table synthesis: one person-level budget, consistent fresh keys, bounded children, relations kept."""

import numpy as np
import pyarrow as pa
import pyarrow.compute as pc
import pytest
from janedoe.dp_noise import epsilon_from_rho_delta, rho_from_epsilon_delta
from janedoe.errors import JaneDoeInputError
from janedoe.synthetic import check_related, fit_mst, fit_related
from janedoe.synthetic.child_counts import COUNT_COLUMN, related_rows

PARENT_COLUMNS = {"segment": {"categories": [0, 1, 2]}, "region": {"categories": [0, 1, 2, 3]}}
CHILD_COLUMNS = {"category": {"categories": [0, 1, 2]}, "amount": {"bounds": [0, 99], "bins": 10}}
MAX_CHILDREN = 8


def _customers_orders(parents: int, seed: int) -> tuple[pa.Table, pa.Table]:
    """Segment s orders about 1 + 2s times (Poisson) and buys category s nine times in ten."""
    rng = np.random.default_rng(seed)
    segment = rng.integers(0, 3, parents)
    counts = rng.poisson(1 + 2 * segment)
    owner = np.repeat(np.arange(parents), counts)
    category = np.where(rng.random(owner.size) < 0.9, segment[owner], rng.integers(0, 3, owner.size))
    ids = rng.choice(10**9, size=parents, replace=False) + 10**9  # real ids: large, never 1..n
    customers = pa.table({"id": ids, "segment": segment, "region": rng.integers(0, 4, parents)})
    orders = pa.table({"order_id": np.arange(owner.size) + 5 * 10**9, "customer_id": ids[owner],
                       "category": category, "amount": rng.integers(0, 100, owner.size)})
    return customers, orders


def _fit(customers, orders, seed: int, method: str = "mst", epsilon: float = 1.0):
    return fit_related(customers, orders, parent_key="id", foreign_key="customer_id", parent_columns=PARENT_COLUMNS,
                       child_columns=CHILD_COLUMNS, context=["segment"], max_children=MAX_CHILDREN, epsilon=epsilon,
                       delta=1e-9, method=method, child_key="order_id", bounding_key=b"k" * 32,
                       rng=np.random.default_rng(seed))


def _recomputed(records) -> float:
    return sum(1 / (2 * r.sigma**2) if r.mechanism == "discrete_gaussian" else r.epsilon**2 / 8 for r in records)


@pytest.mark.parametrize("method", ["mst", "aim"])
def test_rho_recomputed_from_both_fits_noise_scales_is_the_budget(method):
    customers, orders = _customers_orders(1500, seed=1)
    model = _fit(customers, orders, seed=2, method=method)
    budget = rho_from_epsilon_delta(1.0, 1e-9)
    assert model.rho_parent + model.rho_child == budget
    parent_part = _recomputed(model.parents.noise)
    # each person has up to MAX_CHILDREN child rows: every child measurement costs MAX_CHILDREN^2 its row-level rho
    child_part = MAX_CHILDREN**2 * _recomputed(model.children.noise)
    assert model.rho_parent * (1 - 1e-3) <= parent_part <= model.rho_parent * (1 + 1e-12)
    assert model.rho_child * (1 - 1e-3) <= child_part <= model.rho_child * (1 + 1e-12)
    assert model.rho_spent == pytest.approx(parent_part + child_part, rel=1e-12)
    assert budget * (1 - 1e-3) <= model.rho_spent <= budget * (1 + 1e-12)


def test_keys_are_fresh_and_every_child_has_a_synthetic_parent():
    customers, orders = _customers_orders(2000, seed=3)
    synthetic = _fit(customers, orders, seed=4).sample(rng=5)
    keys = synthetic.parents.column("id").to_numpy()
    assert np.array_equal(keys, np.arange(1, synthetic.parents.num_rows + 1))
    references = synthetic.children.column("customer_id").to_numpy()
    assert np.isin(references, keys).all()
    assert synthetic.children.column("customer_id").null_count == 0
    assert np.array_equal(synthetic.children.column("order_id").to_numpy(),
                          np.arange(1, synthetic.children.num_rows + 1))
    assert not np.isin(keys, customers.column("id").to_numpy()).any()
    assert synthetic.parents.column_names == ["id", "segment", "region"]
    assert synthetic.children.column_names == ["order_id", "customer_id", "category", "amount"]
    assert abs(synthetic.parents.num_rows - 2000) < 200  # the noisy count of persons


def test_children_per_parent_never_exceed_the_declared_maximum():
    customers, orders = _customers_orders(2000, seed=6)
    model = _fit(customers, orders, seed=7)
    for seed in range(3):
        synthetic = model.sample(parents=3000, rng=seed)
        counts = np.bincount(synthetic.children.column("customer_id").to_numpy(), minlength=3001)
        assert counts.max() <= MAX_CHILDREN
        assert (counts == MAX_CHILDREN).any()  # the segment with mean 5 reaches the bound


def test_bounding_keeps_max_children_per_person_and_drops_orphans_and_repeated_keys():
    parents = pa.table({"id": [1, 2, 2, 3, None], "segment": [0, 1, 2, 2, 0]})
    fk = [1] * 12 + [2] * 3 + [9] * 4 + [None]
    children = pa.table({"customer_id": fk, "category": list(range(len(fk)))})
    rows = related_rows(parents, children, parent_key="id", foreign_key="customer_id", parent_columns=["segment"],
                        child_columns=["category"], context=["segment"], max_children=5, bounding_key=b"k" * 32)
    assert rows.parents.column("segment").to_pylist() == [0, 1, 2]  # id 2 keeps its first row, no id goes
    assert rows.parents.column(COUNT_COLUMN).to_pylist() == [5, 3, 0]
    kept = rows.children.column("category").to_pylist()
    assert len([c for c in kept if c < 12]) == 5 and {12, 13, 14} <= set(kept) and len(kept) == 8
    assert rows.children.column("__parent__.segment").to_pylist().count(1) == 3


def test_bounding_choice_is_keyed_not_file_order():
    parents = pa.table({"id": [1], "segment": [0]})
    children = pa.table({"customer_id": [1] * 100, "category": list(range(100))})
    chosen = [tuple(sorted(related_rows(parents, children, parent_key="id", foreign_key="customer_id",
                                        parent_columns=["segment"], child_columns=["category"], context=[],
                                        max_children=10, bounding_key=bytes([key]) * 32)
                           .children.column("category").to_pylist())) for key in range(5)]
    assert len(set(chosen)) == 5 and chosen[0] != tuple(range(10))


def _agreement(synthetic) -> float:
    segment = synthetic.parents.column("segment").to_numpy()
    parent_row = synthetic.children.column("customer_id").to_numpy() - 1
    return float(np.mean(synthetic.children.column("category").to_numpy() == segment[parent_row]))


def test_segment_to_category_survives_the_join_where_independent_parents_lose_it():
    customers, orders = _customers_orders(3000, seed=8)
    parent_row = pc.index_in(orders.column("customer_id"), value_set=customers.column("id")).to_numpy()
    real_agreement = np.mean(orders.column("category").to_numpy() == customers.column("segment").to_numpy()[parent_row])
    assert real_agreement > 0.9
    related = _fit(customers, orders, seed=9).sample(rng=10)
    assert _agreement(related) > 0.8
    # the baseline: each table synthesized alone (same budget split), children handed to random parents
    half = rho_from_epsilon_delta(1.0, 1e-9) / 2
    lone_parents = fit_mst(customers.select(["segment", "region"]), PARENT_COLUMNS, delta=1e-9,
                           epsilon=epsilon_from_rho_delta(half, 1e-9), rng=np.random.default_rng(11)).sample(rng=12)
    lone_children = fit_mst(orders.select(["category", "amount"]), CHILD_COLUMNS, delta=1e-9,
                            epsilon=epsilon_from_rho_delta(half / MAX_CHILDREN**2, 1e-9),
                            rng=np.random.default_rng(13)).sample(rng=14)
    owners = np.random.default_rng(15).integers(1, lone_parents.num_rows + 1, lone_children.num_rows)
    baseline = type(related)(lone_parents.add_column(0, "id", pa.array(np.arange(1, lone_parents.num_rows + 1))),
                             lone_children.add_column(0, "customer_id", pa.array(owners)))
    assert _agreement(baseline) < 0.45


def test_children_per_parent_follow_the_parent_attributes():
    customers, orders = _customers_orders(3000, seed=16)
    synthetic = _fit(customers, orders, seed=17).sample(rng=18)
    segment = synthetic.parents.column("segment").to_numpy()
    counts = np.bincount(synthetic.children.column("customer_id").to_numpy() - 1, minlength=segment.size)
    for value, expected in [(0, 1.0), (1, 3.0), (2, 4.9)]:  # Poisson(5) clipped at 8 has mean ~4.9
        assert abs(counts[segment == value].mean() - expected) < 0.4


@pytest.mark.parametrize("change, where", [
    ({"parent_key": "missing"}, "parent.missing"),
    ({"context": ["category"]}, "context"),
    ({"max_children": 0}, "max_children"),
    ({"parent_share": 1.0}, "parent_share"),
    ({"child_columns": {"customer_id": {"categories": [1]}}}, "child.customer_id"),
    ({"epsilon": -1.0}, "epsilon"),
])
def test_bad_declarations_are_refused_from_the_schemas(change, where):
    customers, orders = _customers_orders(10, seed=19)
    arguments = dict(parent_key="id", foreign_key="customer_id", parent_columns=PARENT_COLUMNS,
                     child_columns=CHILD_COLUMNS, context=["segment"], max_children=4, epsilon=1.0)
    with pytest.raises(JaneDoeInputError) as error:
        check_related(customers.schema, orders.schema, **{**arguments, **change})
    assert error.value.where == where


def test_a_foreign_key_of_another_type_is_refused():
    customers, orders = _customers_orders(10, seed=20)
    orders = orders.set_column(1, "customer_id", orders.column("customer_id").cast(pa.string()))
    with pytest.raises(JaneDoeInputError, match="foreign key's type"):
        check_related(customers.schema, orders.schema, parent_key="id", foreign_key="customer_id",
                      parent_columns=PARENT_COLUMNS, child_columns=CHILD_COLUMNS, max_children=4, epsilon=1.0)


def test_a_column_named_like_the_internal_child_count_is_refused():
    customers, orders = _customers_orders(10, seed=21)
    customers = customers.append_column(COUNT_COLUMN, pa.array([0] * 10))
    with pytest.raises(JaneDoeInputError, match="reserved") as error:
        check_related(customers.schema, orders.schema, parent_key="id", foreign_key="customer_id",
                      parent_columns={**PARENT_COLUMNS, COUNT_COLUMN: {"categories": [0, 1]}},
                      child_columns=CHILD_COLUMNS, max_children=4, epsilon=1.0)
    assert error.value.where == "parent." + COUNT_COLUMN
