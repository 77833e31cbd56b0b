"""choose_table: the one rule for which policy table a command or a request uses (CLI, Spark CLI, API)."""

import pytest
from janedoe.errors import JaneDoeInputError
from janedoe.policy import choose_table, parse_policy

POLICY = parse_policy("""
version: 1
tables:
  customers:
    columns:
      email: {mask: hash}
  visits:
    dp: {epsilon: 1.0}
    columns:
      age: {bounds: [0, 120]}
  people:
    synthetic: {epsilon: 1.0}
    columns:
      age: {bounds: [18, 90], bins: 8}
  survey:
    dp: {epsilon: 0.5}
    synthetic: {epsilon: 2.0}
    columns:
      age: {bounds: [18, 90], bins: 8}
""")


def test_a_named_table_wins():
    name, entry = choose_table(POLICY, "customers", "anything", where="p.yaml")
    assert name == "customers" and entry is POLICY.tables["customers"]


def test_without_a_section_the_input_names_the_table():
    assert choose_table(POLICY, None, "people", where="p.yaml")[0] == "people"
    with pytest.raises(JaneDoeInputError, match=r"'orders' is not in the policy \(its tables: customers, people, "
                                                r"survey, visits\); name one with --table") as refused:
        choose_table(POLICY, None, "orders", where="orders.csv")
    assert refused.value.where == "orders.csv"


def test_with_a_section_the_input_then_the_only_table_that_has_it():
    assert choose_table(POLICY, None, "survey", section="dp", where="p")[0] == "survey"  # the input's own table
    assert choose_table(POLICY, None, "people", section="synthetic", where="p")[0] == "people"
    with pytest.raises(JaneDoeInputError, match="no single table has a dp: section"):
        choose_table(POLICY, None, "customers", section="dp", where="p")  # visits and survey both have one


def test_the_only_table_with_the_section_is_chosen():
    only_dp = parse_policy("version: 1\ntables:\n  a: {columns: {}}\n  b: {dp: {epsilon: 1.0}, columns: {}}\n")
    assert choose_table(only_dp, None, "a", section="dp", where="p")[0] == "b"
    assert choose_table(only_dp, None, "c", section="dp", where="p")[0] == "b"


def test_a_named_table_without_the_section_is_refused():
    with pytest.raises(JaneDoeInputError, match="table 'customers' has no synthetic: section") as refused:
        choose_table(POLICY, "customers", "x", section="synthetic", where="p.yaml")
    assert refused.value.where == "p.yaml: tables.customers"
    with pytest.raises(JaneDoeInputError, match="'nope' is not in the policy"):
        choose_table(POLICY, "nope", "x", section="dp", where="p.yaml")


def test_the_error_names_the_callers_option():
    with pytest.raises(JaneDoeInputError, match="name one with the table field$"):
        choose_table(POLICY, None, "orders", where="policy", option="the table field")
