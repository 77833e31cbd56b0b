"""PostgreSQL to PostgreSQL, tables are copied in lanes from one exported snapshot, and keys, uniques and foreign
keys are built while later tables load: the same data as a one-lane copy, one consistent snapshot, errors that stop
every lane, and post-load steps that are never repeated after an interruption."""

import psycopg
import pytest
from janedoe.database_access import parse_database_url
from janedoe.errors import JaneDoeInputError
from janedoe.policy import parse_policy
from janedoe.sqldb import copy_database
from janedoe.sqldb.reflection import reflect_schema
from janedoe.sqldb.snapshot_reader import SnapshotReader
from janedoe.sqldb.table_writer import TargetWriter


def _all_rows(shop, url: str) -> dict:
    db = shop.Database(url)
    try:
        return {table: sorted(map(tuple, db.rows(f"SELECT * FROM {table}"))) for table in shop.row_counts(db)}
    finally:
        db.close()


def _constraints(url: str) -> list[tuple]:
    with psycopg.connect(url) as conn:
        return sorted(conn.execute(
            "SELECT conrelid::regclass::text, conname, contype FROM pg_constraint"
            " WHERE connamespace = 'public'::regnamespace AND conrelid::regclass::text <> '_janedoe_copy_state'"
        ).fetchall())


def test_lanes_give_exactly_the_one_lane_copy(shop_module, postgres_shop, second_postgres, policy, postgres_server):
    one_lane = postgres_server.rsplit("/", 1)[0] + "/one_lane_copy"
    with psycopg.connect(postgres_server, autocommit=True) as conn:
        conn.execute("DROP DATABASE IF EXISTS one_lane_copy")
        conn.execute("CREATE DATABASE one_lane_copy")
    copy_database(policy, postgres_shop, one_lane, batch_size=29, lanes=1)
    copy_database(policy, postgres_shop, second_postgres, batch_size=29, lanes=3)
    assert _all_rows(shop_module, second_postgres) == _all_rows(shop_module, one_lane)
    assert _constraints(second_postgres) == _constraints(one_lane)
    assert len(_constraints(second_postgres)) >= 6 + len(shop_module.FOREIGN_KEYS)


def test_a_reader_opened_with_an_exported_snapshot_sees_that_snapshot(shop_module, postgres_shop):
    url = parse_database_url(postgres_shop)
    table = reflect_schema(url).tables["customers"]
    with SnapshotReader(url) as first:
        before = first.count_rows("customers")
        snapshot = first.export_snapshot()
        with psycopg.connect(postgres_shop, autocommit=True) as conn:
            conn.execute("DELETE FROM support_tickets")
            conn.execute("UPDATE customers SET full_name = 'changed after the snapshot'")
        with SnapshotReader(url, snapshot) as second:
            assert second.count_rows("support_tickets") > 0
            names = {n for b in second.read_batches(table, batch_size=50) for n in b.column("full_name").to_pylist()}
            assert "changed after the snapshot" not in names
            assert sum(b.num_rows for b in second.read_batches(table)) == before
        with SnapshotReader(url) as fresh:
            assert fresh.count_rows("support_tickets") == 0


def test_a_failing_table_stops_every_lane_with_a_one_line_error(shop_module, postgres_shop, second_postgres,
                                                                 secret_env):
    broken = shop_module.POLICY.replace(
        "street: {mask: pseudonymize, kind: street_address, locale: de_DE, pool_size: 500}", 'street: {mask: "null"}'
    )
    assert broken != shop_module.POLICY
    with pytest.raises(JaneDoeInputError) as error:
        copy_database(parse_policy(broken, "broken.yaml"), postgres_shop, second_postgres, batch_size=10, lanes=2)
    message = str(error.value)
    assert "addresses" in message and "street" in message and "\n" not in message
    assert "Failing row" not in message  # the server's DETAIL quotes row values: never passed on


def test_post_load_steps_interrupted_half_way_resume_without_repeating(shop_module, postgres_shop, second_postgres,
                                                                       policy, monkeypatch):
    original, calls = TargetWriter.run_step, []

    def interrupted_after_five(self, step):
        if len(calls) == 5:
            raise KeyboardInterrupt
        calls.append(step.sql)
        original(self, step)

    monkeypatch.setattr(TargetWriter, "run_step", interrupted_after_five)
    with pytest.raises(KeyboardInterrupt):
        copy_database(policy, postgres_shop, second_postgres, batch_size=50, lanes=2)
    built = _constraints(second_postgres)
    assert 0 < len(built) <= 5
    monkeypatch.setattr(TargetWriter, "run_step", original)
    report = copy_database(policy, postgres_shop, second_postgres, batch_size=50, lanes=2)
    assert report.resumed
    target = shop_module.Database(second_postgres)
    assert shop_module.dangling_references(target) == {}
    assert shop_module.row_counts(target) == shop_module.row_counts(shop_module.Database(postgres_shop))
    target.close()
    after = _constraints(second_postgres)
    assert set(built) <= set(after) and len(after) == len(set(after))
    assert sum(1 for c in after if c[2] == "f") == len(shop_module.FOREIGN_KEYS)
