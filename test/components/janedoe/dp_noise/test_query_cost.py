"""query_cost: the cost plan_query charges, worked out without a schema, for every kind of query."""

import pyarrow as pa
import pytest
from janedoe.dp_noise import PrivacyCost, plan_query, query_cost, rho_from_epsilon_delta
from janedoe.errors import JaneDoeInputError
from janedoe.policy import DpSection

SCHEMA = pa.schema({"user": pa.string(), "age": pa.int64(), "income": pa.float64(), "colour": pa.string(),
                    "city": pa.string(), "score": pa.int64()})
BOUNDS = {"age": {"bounds": (0, 100)}, "income": (0.0, 1000.0), "colour": {"categories": ["red", "green", "blue"]},
          "score": {"bounds": (0, 10), "bins": 5}}  # city: no public keys
PER_PERSON = DpSection(epsilon=10.0, user_id="user", max_rows_per_user=3)
EXPRESSIONS = ["count", "sum(age)", "sum(income)", "mean(age)", "variance(income)", "median(age)",
               "quantile(income, 0.9)"]
GROUPINGS = [None, "colour", "score", "city"]  # none, listed categories, public bins, keys found in the data
BUDGETS = [(0.5, 0.0), (1.3, 1e-6)]  # Laplace / Gaussian (keys found in the data need delta > 0)


def _cases():
    for expression in EXPRESSIONS:
        for by in GROUPINGS:
            for epsilon, delta in BUDGETS:
                if not (by == "city" and delta == 0.0):
                    yield expression, by, epsilon, delta
    for expression in ["histogram(colour)", "histogram(score)"]:
        for epsilon, delta in BUDGETS:
            yield expression, None, epsilon, delta
    yield "histogram(city)", None, 0.7, 1e-8


@pytest.mark.parametrize("section", [None, PER_PERSON], ids=["row", "person"])
@pytest.mark.parametrize("expression,by,epsilon,delta", list(_cases()))
def test_the_schema_free_cost_is_the_plans_cost(expression, by, epsilon, delta, section):
    options = {"epsilon": epsilon, "delta": delta, "section": section, "columns_bounds": BOUNDS, "by": by}
    assert query_cost(expression, **options) == plan_query(SCHEMA, expression, **options).cost


def test_costs_worked_out_by_hand():
    assert query_cost("sum(age)", epsilon=0.5) == PrivacyCost(epsilon=0.5)
    assert query_cost("mean(age)", epsilon=1.3, delta=1e-6) == PrivacyCost(
        epsilon=1.3, delta=1e-6, rho=rho_from_epsilon_delta(1.3, 1e-6))
    assert query_cost("median(age)", epsilon=2.0) == PrivacyCost(epsilon=2.0, rho=0.5)  # exponential: eps^2 / 8
    # keys found in the data: Laplace noise and threshold selection, paid as (epsilon, delta) with no rho
    assert query_cost("histogram(city)", epsilon=0.7, delta=1e-8) == PrivacyCost(epsilon=0.7, delta=1e-8)


def test_the_cost_needs_no_column_to_exist():
    assert query_cost("mean(nowhere)", epsilon=1.0, by="elsewhere", delta=1e-6, columns_bounds={}) == PrivacyCost(
        epsilon=1.0, delta=1e-6)
    with pytest.raises(JaneDoeInputError, match="unknown column"):
        plan_query(SCHEMA, "mean(nowhere)", epsilon=1.0, delta=1e-6, columns_bounds={}, by="elsewhere")


@pytest.mark.parametrize("expression,options", [
    ("count(", {}),
    ("count", {"epsilon": -1.0}),
    ("count", {"epsilon": 1e9}),
    ("count", {"delta": 1.5}),
    ("histogram(colour)", {"by": "age"}),
    ("count", {"by": "user", "section": PER_PERSON}),
    ("histogram(city)", {}),  # keys found in the data with delta = 0
])
def test_the_schema_free_refusals_are_the_plans(expression, options):
    options = {"epsilon": 1.0, "columns_bounds": BOUNDS, **options}
    with pytest.raises(JaneDoeInputError) as from_cost:
        query_cost(expression, **options)
    with pytest.raises(JaneDoeInputError) as from_plan:
        plan_query(SCHEMA, expression, **options)
    assert str(from_cost.value) == str(from_plan.value)
