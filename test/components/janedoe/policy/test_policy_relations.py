"""The policy's `relations:` (parent and child tables synthesized together): every name checked against the tables,
one-line errors naming the line and the field; choose_relation picks the pair fit-related reads."""

import pytest
from janedoe.errors import JaneDoeInputError
from janedoe.policy import choose_relation, parse_policy

TABLES = """\
version: 1
tables:
  customers:
    synthetic: {epsilon: 1.0}
    columns:
      segment: {categories: [retail, business]}
      region: {categories: [north, south]}
  orders:
    columns:
      amount: {bounds: [0, 500]}
  stores:
    synthetic: {epsilon: 1.0}
    columns:
      size: {bounds: [0, 9]}
  visits:
    columns:
      minutes: {bounds: [0, 60]}
"""

RELATION = """\
relations:
  - parent: customers
    child: orders
    parent_key: id
    foreign_key: customer_id
    max_children: 60
    context: [segment, region]
"""


def test_a_relation_is_read_with_its_defaults():
    (relation,) = parse_policy(TABLES + RELATION).relations
    assert (relation.parent, relation.child, relation.parent_key, relation.foreign_key) == (
        "customers", "orders", "id", "customer_id")
    assert relation.max_children == 60 and relation.context == ["segment", "region"]
    assert relation.child_key is None and relation.parent_share is None


@pytest.mark.parametrize(
    ("edit", "field", "message"),
    [
        (("parent: customers", "parent: clients"), "relations.0.parent", "'clients' is not in the policy's tables"),
        (("child: orders", "child: order"), "relations.0.child", "'order' is not in the policy's tables"),
        (("child: orders", "child: customers"), "relations.0.child", "its own child"),
        (("parent: customers", "parent: visits"), "relations.0.parent", "needs a synthetic: section"),
        (("child: orders", "child: stores"), "relations.0.child", "protect its rows, not people"),
        (("[segment, region]", "[segment, regon]"), "relations.0.context.1", "'regon' is not a column of table"),
        (("[segment, region]", "[segment, segment]"), "relations.0.context.1", "repeated"),
        (("[segment, region]", "[id]"), "relations.0.context.0", "'id' is not a column"),
        (("max_children: 60", "max_children: 0"), "relations.0.max_children", "greater than or equal to 1"),
        (("max_children: 60", "max_children: 60\n    parent_share: 1"), "relations.0.parent_share", "less than 1"),
        (("max_children: 60", "max_children: 60\n    child_key: customer_id"), "relations.0.child_key", "same"),
        (("max_children: 60", "max_children: 60\n    parnt: x"), "relations.0.parnt", "unknown parameter"),
    ],
)
def test_every_name_is_checked_in_one_line_naming_the_field(edit, field, message):
    with pytest.raises(JaneDoeInputError, match=message) as refused:
        parse_policy(TABLES + RELATION.replace(*edit), "shop.yaml")
    assert refused.value.where.startswith("shop.yaml:") and refused.value.where.endswith(f": {field}")
    assert "\n" not in str(refused.value)


def test_a_table_takes_part_in_one_pair_only():
    second = RELATION + RELATION.replace("relations:\n", "").replace("customers", "stores")
    with pytest.raises(JaneDoeInputError, match="'orders' is already in relations.0") as refused:
        parse_policy(TABLES + second, "shop.yaml")
    assert refused.value.where == "shop.yaml:26: relations.1.child"


def test_choose_relation_by_table_names_then_file_names_then_the_only_one():
    relations = parse_policy(TABLES + RELATION).relations
    assert choose_relation(relations, None, "orders", "a", "b", where="p.yaml")[0] == 0
    assert choose_relation(relations, "customers", None, "a", "b", where="p.yaml")[0] == 0
    assert choose_relation(relations, None, None, "x", "orders", where="p.yaml")[0] == 0
    assert choose_relation(relations, None, None, "customers_2024", "orders_2024", where="p.yaml")[0] == 0
    assert choose_relation([], None, None, "customers", "orders", where="p.yaml") is None
    assert choose_relation(relations, "stores", "visits", "a", "b", where="p.yaml") is None
    with pytest.raises(JaneDoeInputError, match="pairs parent 'customers' with child 'orders'") as refused:
        choose_relation(relations, "stores", "orders", "a", "b", where="p.yaml")
    assert refused.value.where == "p.yaml: relations.0"
