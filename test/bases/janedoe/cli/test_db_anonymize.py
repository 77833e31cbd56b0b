"""`janedoe db anonymize` run as the real console script: nothing changes without --yes, one-line errors, exit codes."""

import importlib.util
import os
import subprocess
import sys
import time

import pytest

JANEDOE = os.path.join(os.path.dirname(sys.executable), "janedoe")
SHOP_PATH = os.path.join(os.path.dirname(__file__), "..", "..", "..", "components", "janedoe", "sqldb",
                         "shop_database.py")
_spec = importlib.util.spec_from_file_location("shop_database_anonymize_cli", SHOP_PATH)
shop = importlib.util.module_from_spec(_spec)
_spec.loader.exec_module(shop)

# The shop policy with rules that keep every column's type (a type change rebuilds a SQLite table: tested in sqldb).
SQLITE_POLICY = shop.POLICY.replace("id: {mask: hash}", "id: {mask: keyed_permutation}").replace(
    "{mask: generalize, to: year}", "{mask: noise, interval: '30 days'}"
)


def run(*args):
    env = {**os.environ, "JANEDOE_TEST_SECRET": shop.SECRET}
    return subprocess.run([JANEDOE, "db", "anonymize", *args], capture_output=True, text=True, env=env)


@pytest.fixture
def shop_db(tmp_path):
    path = str(tmp_path / "shop.db")
    shop.build_sqlite(path, customers=30)
    return path


def test_without_yes_nothing_changes_and_the_message_says_what_would(shop_db, tmp_path):
    policy = tmp_path / "policy.yaml"
    policy.write_text(SQLITE_POLICY)
    before = shop.file_digest(shop_db)
    result = run("--policy", str(policy), "--db", shop_db)
    assert result.returncode == 2, result.stderr
    lines = result.stderr.strip().splitlines()
    assert len(lines) == 1 and "add --yes" in lines[0] and "of 6 tables" in lines[0] and "masked columns" in lines[0]
    assert shop.file_digest(shop_db) == before


def test_with_yes_the_tables_are_masked_in_place_and_keys_hold(shop_db, tmp_path):
    pristine = str(tmp_path / "pristine.db")
    shop.build_sqlite(pristine, customers=30)  # the same rows (seeded), to look for leaks
    policy = tmp_path / "policy.yaml"
    policy.write_text(SQLITE_POLICY)
    result = run("--policy", str(policy), "--db", shop_db, "--yes", "--batch-size", "16")
    assert result.returncode == 0, result.stderr
    assert "masked in place" in result.stderr
    original, masked = shop.Database(pristine), shop.Database(shop_db)
    assert masked.rows("PRAGMA foreign_key_check") == []
    assert shop.row_counts(masked) == shop.row_counts(original)
    assert shop.join_shapes(masked) == shop.join_shapes(original)
    assert shop.leaked_values(original, masked) == set()
    original.close()
    masked.close()


def test_a_refused_policy_is_one_line_exit_2_and_changes_nothing(shop_db, tmp_path):
    """`hash` on an AUTOINCREMENT key: SQLite's table rebuild cannot give that column another type."""
    import sqlite3

    counters = str(tmp_path / "counters.db")
    conn = sqlite3.connect(counters)
    conn.execute("CREATE TABLE t (id INTEGER PRIMARY KEY AUTOINCREMENT, n INTEGER)")
    conn.execute("INSERT INTO t (n) VALUES (1)")
    conn.commit()
    conn.close()
    policy = tmp_path / "policy.yaml"
    policy.write_text("version: 1\nsecret_env: JANEDOE_TEST_SECRET\ntables:\n  t:\n    columns:\n"
                      "      id: {mask: hash}\n      n: {mask: keep}\n")
    unchanged = shop.file_digest(counters)
    result = run("--policy", str(policy), "--db", counters, "--yes")
    assert result.returncode == 2, result.stderr
    lines = result.stderr.strip().splitlines()
    assert len(lines) == 1 and "t.id" in lines[0] and "AUTOINCREMENT" in lines[0] and "Traceback" not in result.stderr
    assert shop.file_digest(counters) == unchanged
    before = shop.file_digest(shop_db)
    policy.write_text(SQLITE_POLICY)  # --table, repeated: orders would keep references to the permuted customers.id
    result = run("--policy", str(policy), "--db", shop_db, "--yes", "--table", "customers", "--table", "addresses")
    assert result.returncode == 2 and "orders(customer_id) -> customers(id) would dangle" in result.stderr
    assert len(result.stderr.strip().splitlines()) == 1
    assert shop.file_digest(shop_db) == before


def test_killed_while_swapping_the_rows_leaves_the_original_database(tmp_path):
    """kill -9 once the transaction writes the tables (SQLite's rollback journal appears): the next open rolls the
    hot journal back, and every table holds its original rows."""
    path = str(tmp_path / "big.db")
    shop.build_sqlite(path, customers=1000)
    pristine = shop.Database(path)
    before = shop.table_hashes(pristine)
    pristine.close()
    policy = tmp_path / "policy.yaml"
    policy.write_text(SQLITE_POLICY)
    env = {**os.environ, "JANEDOE_TEST_SECRET": shop.SECRET}
    process = subprocess.Popen([JANEDOE, "db", "anonymize", "--policy", str(policy), "--db", path, "--yes"],
                               stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL, env=env)
    journal = path + "-journal"
    try:
        while process.poll() is None and not os.path.exists(journal):
            time.sleep(0.001)
        assert process.poll() is None, "finished before the swap was seen"
        process.kill()
    finally:
        process.wait()
    db = shop.Database(path)
    assert shop.table_hashes(db) == before
    assert db.rows("PRAGMA integrity_check") == [("ok",)]
    db.close()
