"""kill -9 in the middle of `janedoe db copy`: a rerun resumes to exactly the state an uninterrupted copy gives,
and a rerun with other options is refused unless --replace."""

import os
import signal
import subprocess
import sys
import time

import pytest

JANEDOE = os.path.join(os.path.dirname(sys.executable), "janedoe")


def _progress(shop, target: str) -> int:
    try:
        db = shop.Database(target)
    except Exception:  # noqa: BLE001  (not created yet)
        return 0
    try:
        return int(db.value("SELECT coalesce(sum(rows_done), 0) FROM _janedoe_copy_state") or 0)
    except Exception:  # noqa: BLE001  (state table not there yet)
        return 0
    finally:
        db.close()


@pytest.fixture
def big_sqlite_shop(shop_module, tmp_path):
    path = str(tmp_path / "big.db")
    shop_module.build_sqlite(path, customers=300)
    return path


@pytest.mark.parametrize(
    ("source_engine", "target_engine"),
    [("sqlite", "sqlite"), ("sqlite", "postgresql"), ("postgresql", "postgresql")],  # the last copies 2 tables at once
)
def test_kill_9_then_resume_gives_the_uninterrupted_result(shop_module, big_sqlite_shop, secret_env, tmp_path,
                                                           source_engine, target_engine, request):
    policy = tmp_path / "policy.yaml"
    policy.write_text(shop_module.POLICY)
    source = big_sqlite_shop
    if source_engine == "postgresql":
        source = request.getfixturevalue("postgres_url")
        shop_module.build_postgres(source, customers=300)
    reference = str(tmp_path / "reference.db")
    target = str(tmp_path / "target.db") if target_engine == "sqlite" else request.getfixturevalue("second_postgres")
    command = [JANEDOE, "db", "copy", "--policy", str(policy), "--from", source, "--to", target]
    process = subprocess.Popen([*command, "--batch-size", "3"], stdout=subprocess.PIPE, stderr=subprocess.PIPE)
    deadline = time.monotonic() + 60
    while _progress(shop_module, target) < 400 and time.monotonic() < deadline and process.poll() is None:
        time.sleep(0.02)
    assert process.poll() is None, "the copy finished before it could be interrupted"
    os.kill(process.pid, signal.SIGKILL)
    process.wait()
    interrupted = shop_module.Database(target)
    done = interrupted.value("SELECT sum(rows_done) FROM _janedoe_copy_state")
    counted = sum(shop_module.row_counts(interrupted).values())
    interrupted.close()
    assert 0 < done == counted  # the state says exactly which rows are in the target

    other = tmp_path / "other.yaml"
    other.write_text(shop_module.POLICY.replace("{mask: generalize, to: year}", "{mask: \"null\"}"))
    refused = subprocess.run([JANEDOE, "db", "copy", "--policy", str(other), "--from", source, "--to", target],
                             capture_output=True, text=True)
    assert refused.returncode == 2 and "--replace" in refused.stderr
    assert len(refused.stderr.strip().splitlines()) == 1

    resumed = subprocess.run([*command, "--batch-size", "500"], capture_output=True, text=True)
    assert resumed.returncode == 0, resumed.stderr
    assert "resumed" in resumed.stderr
    from janedoe.policy import parse_policy
    from janedoe.sqldb import copy_database

    copy_database(parse_policy(shop_module.POLICY, "p.yaml"), source, reference)
    final, expected = shop_module.Database(target), shop_module.Database(reference)
    assert shop_module.dangling_references(final) == {}
    # The resumed copy finished: its resume state is gone, the target holds the source's tables and nothing else.
    source_db = shop_module.Database(source)
    assert shop_module.table_names(final) == shop_module.table_names(source_db)
    source_db.close()
    assert shop_module.duplicate_keys(final) == {}
    got, want = _canonical_rows(final), _canonical_rows(expected)
    for table in want:
        extra = [r for r in got[table] if r not in want[table]][:2]
        assert extra == [], (table, [r for r in want[table] if r[0] in {e[0] for e in extra}])
    final.close()
    expected.close()


def _canonical_rows(db) -> dict:
    """Rows as comparable text across engines (numbers and times normalised)."""
    import decimal

    def norm(value):
        if value is None:
            return None
        if isinstance(value, str) and value[:1].isdigit():  # a numeric from PostgreSQL is exact TEXT in SQLite
            try:
                value = decimal.Decimal(value)
            except decimal.InvalidOperation:
                pass
        if isinstance(value, (decimal.Decimal, float, int)) and not isinstance(value, bool):
            return repr(round(float(value), 6))  # SQLite's own NUMERIC is a REAL, PostgreSQL's an exact decimal
        if hasattr(value, "isoformat"):
            return value.isoformat(sep=" ")[:19]
        text = str(value)
        return text[:19] if len(text) >= 19 and text[4] == "-" and text[10] == " " else text

    return {t: sorted(tuple(norm(v) for v in row) for row in db.rows(f"SELECT * FROM {t}")) for t in
            ("customers", "addresses", "orders", "order_items", "payments", "support_tickets")}
