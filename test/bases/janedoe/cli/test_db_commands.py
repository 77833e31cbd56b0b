"""`janedoe db scan | copy | dump` run as the real console script: exit codes, one-line errors, outputs."""

import importlib.util
import os
import sqlite3
import subprocess
import sys

import pytest

JANEDOE = os.path.join(os.path.dirname(sys.executable), "janedoe")
SHOP_PATH = os.path.join(os.path.dirname(__file__), "..", "..", "..", "components", "janedoe", "sqldb",
                         "shop_database.py")
_spec = importlib.util.spec_from_file_location("shop_database_cli", SHOP_PATH)
shop = importlib.util.module_from_spec(_spec)
_spec.loader.exec_module(shop)


def run(*args, env_extra=None):
    env = {**os.environ, "JANEDOE_TEST_SECRET": shop.SECRET, "JANEDOE_SECRET": shop.SECRET, **(env_extra or {})}
    return subprocess.run([JANEDOE, "db", *args], capture_output=True, text=True, env=env)


@pytest.fixture
def source(tmp_path):
    path = str(tmp_path / "shop.db")
    shop.build_sqlite(path, customers=30)
    return path


def test_scan_copy_dump_round_trip(source, tmp_path):
    policy = tmp_path / "policy.yaml"
    scanned = run("scan", source, "--out", str(policy))
    assert scanned.returncode == 0, scanned.stderr
    assert "version: 1" in policy.read_text()
    target = tmp_path / "copy.db"
    copied = run("copy", "--policy", str(policy), "--from", source, "--to", str(target), "--batch-size", "25")
    assert copied.returncode == 0, copied.stderr
    source_db, target_db = shop.Database(source), shop.Database(str(target))
    assert shop.row_counts(target_db) == shop.row_counts(source_db)
    assert shop.dangling_references(target_db) == {}
    assert shop.leaked_values(source_db, target_db) == set()
    dump = tmp_path / "shop.sql"
    dumped = run("dump", str(dump), "--policy", str(policy), "--from", source)
    assert dumped.returncode == 0, dumped.stderr
    loaded = sqlite3.connect(tmp_path / "loaded.db")
    loaded.executescript(dump.read_text())
    assert loaded.execute("SELECT count(*) FROM order_items").fetchone()[0] == shop.row_counts(source_db)["order_items"]


def test_subset_options(source, tmp_path):
    policy = tmp_path / "policy.yaml"
    policy.write_text(shop.POLICY)
    target = tmp_path / "subset.db"
    result = run("copy", "--policy", str(policy), "--from", source, "--to", str(target),
                 "--where", "orders:status = 'new'", "--sample", "customers:0.5")
    assert result.returncode == 0, result.stderr
    db = shop.Database(str(target))
    assert shop.dangling_references(db) == {}
    assert 0 < db.value("SELECT count(*) FROM customers") < 30


@pytest.mark.parametrize(
    "args, where",
    [
        (["copy", "--policy", "{policy}", "--from", "{missing}", "--to", "{target}"], "no such SQLite"),
        (["copy", "--policy", "{policy}", "--from", "postgresql://u:pw123456@127.0.0.1:1/x", "--to", "{target}"],
         "connection"),
    ],
)
def test_user_errors_are_one_line_exit_2_and_leave_no_output(source, tmp_path, args, where):
    policy = tmp_path / "policy.yaml"
    policy.write_text(shop.POLICY)
    values = {"policy": str(policy), "source": source, "missing": str(tmp_path / "nope.db"),
              "target": str(tmp_path / "out.db")}
    result = run(*[a.format(**values) for a in args])
    assert result.returncode == 2, result.stderr
    lines = result.stderr.strip().splitlines()
    assert len(lines) == 1 and where in lines[0]
    assert "pw123456" not in result.stderr and "Traceback" not in result.stderr
    assert not (tmp_path / "out.db").exists()


@pytest.mark.parametrize("command", ["copy", "dump"])
def test_a_value_that_cannot_be_carried_exactly_is_refused_in_one_line(tmp_path, command):
    """A SQLite NUMERIC(12, 2) column holding 1.005: PostgreSQL would round it, so it is refused, naming the column."""
    source = tmp_path / "prices.db"
    conn = sqlite3.connect(source)
    conn.execute("CREATE TABLE prices (id INTEGER PRIMARY KEY, price NUMERIC(12, 2))")
    conn.executemany("INSERT INTO prices VALUES (?, ?)", [(1, 1.5), (2, 1.005)])
    conn.commit()
    conn.close()
    policy = tmp_path / "policy.yaml"
    policy.write_text("version: 1\ndefault: keep\ntables: {}\n")
    output = tmp_path / ("out.db" if command == "copy" else "out.sql")
    where = ["--to", str(output)] if command == "copy" else [str(output), "--dialect", "postgresql"]
    result = run(command, "--policy", str(policy), "--from", str(source), *where)
    assert result.returncode == 2, result.stderr
    lines = result.stderr.strip().splitlines()
    assert len(lines) == 1 and "prices.price" in lines[0] and "NUMERIC(12, 2)" in lines[0], lines
    if command == "dump":
        assert not output.exists()
