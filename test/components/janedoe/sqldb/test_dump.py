"""A masked SQL dump loads into sqlite3 and psql and gives the same database as a masked copy."""

import shutil
import sqlite3
import subprocess

from janedoe.sqldb import copy_database, dump_database


def test_sqlite_dump_loads_into_sqlite3_and_equals_the_copy(shop_module, sqlite_shop, policy, tmp_path):
    dump = tmp_path / "shop.sql"
    dump_database(policy, sqlite_shop, str(dump), batch_size=53)
    loaded = tmp_path / "loaded.db"
    conn = sqlite3.connect(loaded)
    conn.executescript(dump.read_text())
    conn.close()
    copied = tmp_path / "copied.db"
    copy_database(policy, sqlite_shop, str(copied))
    a, b = shop_module.Database(str(loaded)), shop_module.Database(str(copied))
    assert shop_module.dangling_references(a) == {}
    assert shop_module.table_hashes(a) == shop_module.table_hashes(b)
    assert shop_module.join_shapes(a) == shop_module.join_shapes(shop_module.Database(sqlite_shop))
    assert shop_module.leaked_values(shop_module.Database(sqlite_shop), a) == set()
    assert [r[0] for r in a.rows("SELECT email FROM customers ORDER BY email")] == [
        r[0] for r in b.rows("SELECT email FROM customers ORDER BY email")
    ]


def test_postgres_dump_loads_with_psql(shop_module, postgres_shop, second_postgres, policy, tmp_path):
    psql = shutil.which("psql") or sorted(__import__("glob").glob("/usr/lib/postgresql/*/bin/psql"))[-1]
    dump = tmp_path / "shop.sql"
    dump_database(policy, postgres_shop, str(dump))
    result = subprocess.run([psql, "-v", "ON_ERROR_STOP=1", "-q", "-d", second_postgres, "-f", str(dump)],
                            capture_output=True, text=True)
    assert result.returncode == 0, result.stderr[-500:]
    source, loaded = shop_module.Database(postgres_shop), shop_module.Database(second_postgres)
    assert shop_module.dangling_references(loaded) == {}
    assert shop_module.duplicate_keys(loaded) == {}
    assert shop_module.row_counts(loaded) == shop_module.row_counts(source)
    assert shop_module.join_shapes(loaded) == shop_module.join_shapes(source)
    assert shop_module.leaked_values(source, loaded) == set()
    foreign = loaded.value("SELECT count(*) FROM pg_constraint WHERE contype = 'f'"
                           " AND connamespace = 'public'::regnamespace")
    assert foreign == len(shop_module.FOREIGN_KEYS)


def test_failed_dump_leaves_no_file(sqlite_shop, policy, tmp_path):
    import pytest
    from janedoe.errors import JaneDoeInputError

    out = tmp_path / "x.sql"
    with pytest.raises(JaneDoeInputError):
        dump_database(policy, sqlite_shop, str(out), where=["orders:no_such_column = 1"])
    assert list(tmp_path.iterdir()) == [tmp_path / "shop.db"]
