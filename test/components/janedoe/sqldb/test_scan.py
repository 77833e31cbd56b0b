"""`db scan` writes a loadable policy covering every column, flags the personal ones, and the policy copies."""

import yaml
from janedoe.policy import parse_policy
from janedoe.sqldb import copy_database, scan_database


def test_scan_covers_every_column_and_flags_personal_ones(shop_module, sqlite_shop):
    text = scan_database(sqlite_shop)
    data = yaml.safe_load(text)
    db = shop_module.Database(sqlite_shop)
    for table in shop_module.TABLES:
        columns = [r[1] for r in db.rows(f"PRAGMA table_info({table})")]
        assert list(data["tables"][table]["columns"]) == columns
    rules = {(t, c): spec["mask"] for t, v in data["tables"].items() for c, spec in v["columns"].items()}
    for personal in [("customers", "email"), ("customers", "full_name"), ("customers", "phone"),
                     ("customers", "birth_date"), ("addresses", "street"), ("payments", "card_number"),
                     ("support_tickets", "notes")]:
        assert rules[personal] != "keep", personal
    for plain in [("orders", "status"), ("order_items", "quantity"), ("orders", "total")]:
        assert rules[plain] == "keep", plain
    # Every column line carries a comment saying why.
    column_lines = [line for line in text.splitlines() if line.startswith("      ")]
    assert len(column_lines) == len(rules) and all("  # " in line for line in column_lines)
    # The unique email gets unique pseudonyms.
    assert data["tables"]["customers"]["columns"]["email"].get("unique") is True


def test_scan_flags_free_text_by_its_values(shop_module, tmp_path):
    import sqlite3

    path = tmp_path / "t.db"
    conn = sqlite3.connect(path)
    conn.execute("CREATE TABLE events (id INTEGER PRIMARY KEY, payload TEXT, contact TEXT, kind TEXT)")
    conn.executemany("INSERT INTO events VALUES (?, ?, ?, ?)",
                     [(i, f"wrote from ann{i}@example.org", f"x{i}@example.com", "click") for i in range(50)])
    conn.commit()
    conn.close()
    rules = yaml.safe_load(scan_database(str(path)))["tables"]["events"]["columns"]
    assert rules["payload"]["mask"] == "null"
    assert rules["contact"] == {"mask": "pseudonymize", "kind": "email"}
    assert rules["kind"]["mask"] == "keep"


def test_scanned_policy_copies_without_leaking_postgres(shop_module, postgres_shop, second_postgres, monkeypatch):
    monkeypatch.setenv("JANEDOE_SECRET", "scan-test-secret")
    text = scan_database(postgres_shop)
    policy = parse_policy(text, "scanned.yaml")
    copy_database(policy, postgres_shop, second_postgres)
    source, target = shop_module.Database(postgres_shop), shop_module.Database(second_postgres)
    assert shop_module.dangling_references(target) == {}
    assert shop_module.duplicate_keys(target) == {}
    assert shop_module.row_counts(target) == shop_module.row_counts(source)
    assert shop_module.leaked_values(source, target) == set()
