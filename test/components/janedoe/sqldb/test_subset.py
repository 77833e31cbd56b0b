"""Subsets keep referential closure: nothing dangles, referenced rows come along, seeds are respected."""

import pytest
from janedoe.errors import JaneDoeInputError
from janedoe.sqldb import copy_database


def _closure_checks(shop, target_url: str) -> None:
    target = shop.Database(target_url)
    try:
        assert shop.dangling_references(target) == {}
        assert shop.duplicate_keys(target) == {}
    finally:
        target.close()


def test_where_on_orders_brings_their_customers_and_addresses(shop_module, sqlite_shop, secret_env, tmp_path):
    from janedoe.policy import parse_policy

    keep_ids = shop_module.POLICY.replace("id: {mask: hash}", "id: {mask: keep}").replace(
        "id: {mask: keyed_permutation}", "id: {mask: keep}")
    policy = parse_policy(keep_ids, "p.yaml")
    target = str(tmp_path / "subset.db")
    copy_database(policy, sqlite_shop, target, where=["orders:status = 'paid'"])
    _closure_checks(shop_module, target)
    source, copy = shop_module.Database(sqlite_shop), shop_module.Database(target)
    paid = {r[0] for r in source.rows("SELECT id FROM orders WHERE status = 'paid'")}
    assert {r[0] for r in copy.rows("SELECT id FROM orders")} == paid
    # Every item and payment of a kept order is kept; none of another order.
    items = source.rows("SELECT order_id, line_no FROM order_items")
    assert sorted(copy.rows("SELECT order_id, line_no FROM order_items")) == sorted(i for i in items if i[0] in paid)
    # Customers are not filtered by an orders condition: all of them remain (a parent table keeps its rows).
    assert copy.value("SELECT count(*) FROM customers") == source.value("SELECT count(*) FROM customers")
    # Tickets about an item of an unpaid order were dropped; tickets without an order stay.
    expected_tickets = {r[0] for r in source.rows("SELECT id, order_id FROM support_tickets")
                        if r[1] is None or r[1] in paid}
    assert {r[0] for r in copy.rows("SELECT id FROM support_tickets")} == expected_tickets


def test_sample_of_customers_closes_over_referrers_and_favorite_addresses(shop_module, sqlite_shop, secret_env,
                                                                          tmp_path):
    from janedoe.policy import parse_policy

    keep_ids = shop_module.POLICY.replace("id: {mask: keyed_permutation}", "id: {mask: keep}")
    target = str(tmp_path / "subset.db")
    copy_database(parse_policy(keep_ids, "p.yaml"), sqlite_shop, target, sample=["customers:0.2"], seed=3)
    _closure_checks(shop_module, target)
    source, copy = shop_module.Database(sqlite_shop), shop_module.Database(target)
    kept = {r[0] for r in copy.rows("SELECT id FROM customers")}
    total = source.value("SELECT count(*) FROM customers")
    assert 0 < len(kept) < total
    # Independent closure: every referrer of a kept customer is kept (self-reference, transitively).
    referrer = dict(source.rows("SELECT id, referred_by FROM customers"))
    for customer in kept:
        if referrer[customer] is not None:
            assert referrer[customer] in kept
    # Orders only of kept customers, and all of their orders whose shipping address survived.
    orders = copy.rows("SELECT customer_id FROM orders")
    assert orders and all(c in kept for (c,) in orders)


def test_where_with_a_postgres_source(shop_module, postgres_shop, second_postgres, policy):
    copy_database(policy, postgres_shop, second_postgres, where=["customers:id <= 30"])
    _closure_checks(shop_module, second_postgres)
    source, copy = shop_module.Database(postgres_shop), shop_module.Database(second_postgres)
    assert 30 <= copy.value("SELECT count(*) FROM customers") < source.value("SELECT count(*) FROM customers")


def test_bad_subset_options_are_user_errors(sqlite_shop, policy, tmp_path):
    with pytest.raises(JaneDoeInputError, match="--sample"):
        copy_database(policy, sqlite_shop, str(tmp_path / "a.db"), sample=["customers:2"])
    with pytest.raises(JaneDoeInputError, match="--where"):
        copy_database(policy, sqlite_shop, str(tmp_path / "b.db"), where=["nosuchtable:1 = 1"])
    assert not (tmp_path / "a.db").exists() and not (tmp_path / "b.db").exists()
