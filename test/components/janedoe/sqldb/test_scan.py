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
    assert rules["payload"] == {"mask": "redact"}  # free text: its personal spans redacted, the rest kept
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


def test_scan_and_policy_init_agree_and_say_why(tmp_path):
    """One detection function behind both: the same columns get the same rule, with the dictionary entry or the
    detector and the share of sampled values in the comment."""
    import sqlite3

    import faker
    from janedoe.policy import starter_policy_yaml
    from janedoe.tabular import iter_batches, read_schema

    fake = faker.Faker("fr_FR")
    fake.seed_instance(2)
    rows = [(i, fake.first_name(), fake.email(), fake.phone_number(), fake.iban(), fake.ssn(), fake.city(),
             f"Rappeler {fake.name()} au {fake.phone_number()}", "actif") for i in range(60)]
    columns = ["id", "Prénom", "contact", "Téléphone", "rib", "nir", "Ville", "Commentaire", "statut"]
    path = tmp_path / "clients.db"
    conn = sqlite3.connect(path)
    text_columns = ", ".join(f'"{c}" TEXT' for c in columns[1:])
    conn.execute(f"CREATE TABLE clients (id INTEGER PRIMARY KEY, {text_columns})")
    conn.executemany(f"INSERT INTO clients VALUES ({', '.join('?' * len(columns))})", rows)
    conn.commit()
    conn.close()
    csv = tmp_path / "clients.csv"
    csv.write_text(",".join(columns) + "\n" + "".join(",".join(f'"{v}"' for v in row) + "\n" for row in rows))
    scanned_text = scan_database(str(path))
    initial_text = starter_policy_yaml("clients", read_schema(csv), next(iter_batches(csv, batch_size=500)), "x")
    scanned = yaml.safe_load(scanned_text)["tables"]["clients"]["columns"]
    initial = yaml.safe_load(initial_text)["tables"]["clients"]["columns"]
    assert {c: scanned[c] for c in columns[1:]} == {c: initial[c] for c in columns[1:]}
    assert scanned["nir"] == {"mask": "pseudonymize", "kind": "ssn", "locale": "fr_FR"}
    assert scanned["Commentaire"] == {"mask": "redact"} and scanned["statut"] == {"mask": "keep"}
    for text in (scanned_text, initial_text):
        nir_line = next(line for line in text.splitlines() if line.strip().startswith("nir:"))
        assert "100% of 60 sampled values pass the French NIR key" in nir_line
        assert "header is 'téléphone' (fr phone)" in text
