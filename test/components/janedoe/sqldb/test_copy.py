"""A masked copy of the shop database, SQLite and PostgreSQL, checked with plain SQL independent of janedoe.sqldb."""

import pytest
from janedoe.errors import JaneDoeInputError
from janedoe.sqldb import copy_database


def _check_copy(shop, source_url: str, target_url: str) -> None:
    source, target = shop.Database(source_url), shop.Database(target_url)
    try:
        assert shop.dangling_references(target) == {}
        assert shop.duplicate_keys(target) == {}
        assert shop.row_counts(target) == shop.row_counts(source)
        assert shop.table_names(target) == shop.table_names(source)  # nothing of janedoe's (no resume state) left
        assert shop.join_shapes(target) == shop.join_shapes(source)
        assert shop.leaked_values(source, target) == set()
        # The key columns were masked (not kept): the copy's customer ids and order ids differ from the source's.
        ids = "SELECT id FROM customers"
        assert {r[0] for r in source.rows(ids)} != {r[0] for r in target.rows(ids)}
        assert target.value("SELECT count(*) FROM support_tickets WHERE notes IS NOT NULL") == 0
        # Emails are still unique and still look like emails.
        emails = [r[0] for r in target.rows("SELECT email FROM customers")]
        assert len(set(emails)) == len(emails) and all("@" in e for e in emails)
    finally:
        source.close()
        target.close()


def test_sqlite_copy_keeps_keys_uniques_joins_and_leaves_source_unchanged(shop_module, sqlite_shop, policy, tmp_path):
    before = shop_module.file_digest(sqlite_shop)
    target = str(tmp_path / "copy.db")
    report = copy_database(policy, sqlite_shop, target, batch_size=37)
    assert shop_module.file_digest(sqlite_shop) == before
    assert sum(report.rows.values()) > 1000
    _check_copy(shop_module, sqlite_shop, target)
    # SQLite enforces the copied foreign keys once they are switched on.
    db = shop_module.Database(target)
    assert db.rows("PRAGMA foreign_key_check") == []
    with pytest.raises(Exception, match="FOREIGN KEY"):
        db.conn.execute("PRAGMA foreign_keys = ON")
        db.conn.execute("INSERT INTO orders VALUES ('nope', 999999, NULL, '2020-01-01', 'new', 1)")
    with pytest.raises(Exception, match="UNIQUE"):
        email = db.value("SELECT email FROM customers LIMIT 1")
        db.conn.execute("INSERT INTO customers (id, email, full_name, created_at) VALUES (-5, ?, 'x', '2020-01-01')",
                        (email,))
    db.close()


def test_postgres_copy_keeps_keys_uniques_joins_and_leaves_source_unchanged(
    shop_module, postgres_shop, second_postgres, policy
):
    source = shop_module.Database(postgres_shop)
    before = shop_module.table_hashes(source)
    copy_database(policy, postgres_shop, second_postgres, batch_size=41)
    assert shop_module.table_hashes(source) == before
    source.close()
    _check_copy(shop_module, postgres_shop, second_postgres)
    target = shop_module.Database(second_postgres)
    kinds = dict(target.rows("SELECT conname, contype FROM pg_constraint WHERE connamespace = 'public'::regnamespace"))
    assert sum(1 for k in kinds.values() if k == "f") == len(shop_module.FOREIGN_KEYS)
    assert kinds["customers_email_key"] == "u"
    # The serial column got a sequence past the copied keys: the application can insert again.
    new_id = target.value("INSERT INTO customers (email, full_name, created_at) VALUES ('n@example.org', 'n', now())"
                          " RETURNING id")
    assert new_id > target.value(f"SELECT max(id) FROM customers WHERE id <> {new_id}")
    target.close()


def test_sqlite_to_postgres_copy(shop_module, sqlite_shop, second_postgres, policy):
    copy_database(policy, sqlite_shop, second_postgres, batch_size=100)
    _check_copy(shop_module, sqlite_shop, second_postgres)


def test_same_key_gets_same_pseudonym_in_every_table(shop_module, sqlite_shop, policy, tmp_path):
    target = str(tmp_path / "copy.db")
    copy_database(policy, sqlite_shop, target)
    source, copy = shop_module.Database(sqlite_shop), shop_module.Database(target)
    # A ticket's (customer, order line) pair points to the same customer's order in the copy as in the source.
    query = ("SELECT count(*) FROM support_tickets t JOIN orders o ON o.id = t.order_id"
             " WHERE o.customer_id = t.customer_id")
    assert copy.value(query) == source.value(query) > 0


def test_refuses_a_non_empty_target_without_replace(shop_module, sqlite_shop, policy, tmp_path):
    target = str(tmp_path / "copy.db")
    copy_database(policy, sqlite_shop, target)
    digest = shop_module.file_digest(target)
    with pytest.raises(JaneDoeInputError, match="not empty.*--replace"):
        copy_database(policy, sqlite_shop, target)
    assert shop_module.file_digest(target) == digest
    copy_database(policy, sqlite_shop, target, replace=True)
    _check_copy(shop_module, sqlite_shop, target)


def test_refuses_to_copy_into_itself(sqlite_shop, policy):
    with pytest.raises(JaneDoeInputError, match="target is the source"):
        copy_database(policy, sqlite_shop, sqlite_shop)


def test_conflicting_rule_on_a_foreign_key_is_refused_before_writing(shop_module, sqlite_shop, secret_env, tmp_path):
    from janedoe.policy import parse_policy

    text = shop_module.POLICY.replace(
        "      status: {mask: keep}", "      status: {mask: keep}\n      customer_id: {mask: hash}"
    )
    target = tmp_path / "copy.db"
    with pytest.raises(JaneDoeInputError, match="tables.orders.columns.customer_id") as error:
        copy_database(parse_policy(text, "p.yaml"), sqlite_shop, str(target))
    assert "customers.id" in str(error.value)
    assert not target.exists()


def test_non_injective_rule_on_a_referenced_key_is_refused(shop_module, sqlite_shop, secret_env, tmp_path):
    from janedoe.policy import parse_policy

    text = shop_module.POLICY.replace(
        "      id: {mask: keep}\n      street", "      id: {mask: random_int, min: 1, max: 9}\n      street"
    )
    with pytest.raises(JaneDoeInputError, match="tables.addresses.columns.id"):
        copy_database(parse_policy(text, "p.yaml"), sqlite_shop, str(tmp_path / "copy.db"))


def test_a_referenced_key_picked_by_another_column_is_refused(shop_module, sqlite_shop, secret_env, tmp_path):
    from janedoe.policy import parse_policy

    picked_by_city = "      id: {mask: pseudonymize, kind: name, row_key: city}\n      street"
    text = shop_module.POLICY.replace("      id: {mask: keep}\n      street", picked_by_city)
    with pytest.raises(JaneDoeInputError, match="tables.addresses.columns.id.row_key"):
        copy_database(parse_policy(text, "p.yaml"), sqlite_shop, str(tmp_path / "copy.db"))


def test_colliding_pseudonyms_on_a_unique_column_are_refused(shop_module, sqlite_shop, secret_env, tmp_path):
    """A pool of 3 names for 120 unique emails must collide: the copy stops naming the table, not loading bad rows."""
    from janedoe.policy import parse_policy

    text = shop_module.POLICY.replace("{mask: pseudonymize, kind: email, unique: true, pool_size: 1000}",
                                      "{mask: pseudonymize, kind: email, pool_size: 3}")
    with pytest.raises(JaneDoeInputError, match="customers") as error:
        copy_database(parse_policy(text, "p.yaml"), sqlite_shop, str(tmp_path / "copy.db"))
    assert "@" not in str(error.value)


def test_missing_secret_is_an_error_before_anything_is_written(shop_module, sqlite_shop, monkeypatch, tmp_path):
    from janedoe.policy import parse_policy

    monkeypatch.delenv("JANEDOE_TEST_SECRET", raising=False)
    target = tmp_path / "copy.db"
    with pytest.raises(JaneDoeInputError, match="JANEDOE_TEST_SECRET"):
        copy_database(parse_policy(shop_module.POLICY, "p.yaml"), sqlite_shop, str(target))
    assert not target.exists()
