"""The test shop: 7 tables with composite, self-referencing and cyclic foreign keys, a unique email, and free-text
notes full of personal data; built identically in SQLite and PostgreSQL. Also the independent checks a copy must pass.
"""

import hashlib
import random
import sqlite3

from faker import Faker

SCHEMA = """
CREATE TABLE customers (
  id {serial} PRIMARY KEY,
  email VARCHAR(200) NOT NULL UNIQUE,
  full_name VARCHAR(200) NOT NULL,
  phone VARCHAR(50),
  birth_date DATE,
  referred_by INTEGER REFERENCES customers(id),
  favorite_address_id INTEGER,
  created_at TIMESTAMP NOT NULL
);
CREATE TABLE addresses (
  id INTEGER PRIMARY KEY,
  customer_id INTEGER NOT NULL REFERENCES customers(id),
  street VARCHAR(200) NOT NULL,
  city VARCHAR(100) NOT NULL,
  postal_code VARCHAR(20)
);
CREATE TABLE orders (
  id INTEGER PRIMARY KEY,
  customer_id INTEGER NOT NULL REFERENCES customers(id),
  shipping_address_id INTEGER REFERENCES addresses(id),
  placed_at TIMESTAMP NOT NULL,
  status VARCHAR(20) NOT NULL,
  total NUMERIC(12, 2) NOT NULL
);
CREATE TABLE order_items (
  order_id INTEGER NOT NULL REFERENCES orders(id),
  line_no INTEGER NOT NULL,
  product_sku VARCHAR(20) NOT NULL,
  quantity INTEGER NOT NULL,
  unit_price NUMERIC(10, 2) NOT NULL,
  PRIMARY KEY (order_id, line_no)
);
CREATE TABLE payments (
  id INTEGER PRIMARY KEY,
  order_id INTEGER NOT NULL REFERENCES orders(id),
  card_number VARCHAR(30) NOT NULL,
  amount NUMERIC(12, 2) NOT NULL,
  paid_at TIMESTAMP NOT NULL
);
CREATE TABLE support_tickets (
  id INTEGER PRIMARY KEY,
  customer_id INTEGER NOT NULL REFERENCES customers(id),
  order_id INTEGER,
  line_no INTEGER,
  notes TEXT,
  opened_at TIMESTAMP NOT NULL,
  FOREIGN KEY (order_id, line_no) REFERENCES order_items(order_id, line_no)
);
CREATE INDEX orders_placed_at ON orders (placed_at);
"""

# customers <-> addresses is a reference cycle: favorite_address_id is added after both tables exist.
CYCLE_POSTGRES = (
    "ALTER TABLE customers ADD CONSTRAINT customers_favorite_address_fk"
    " FOREIGN KEY (favorite_address_id) REFERENCES addresses(id) DEFERRABLE INITIALLY DEFERRED"
)

TABLES = ["customers", "addresses", "orders", "order_items", "payments", "support_tickets"]

# (child, child columns, parent, parent columns)
FOREIGN_KEYS = [
    ("customers", ("referred_by",), "customers", ("id",)),
    ("customers", ("favorite_address_id",), "addresses", ("id",)),
    ("addresses", ("customer_id",), "customers", ("id",)),
    ("orders", ("customer_id",), "customers", ("id",)),
    ("orders", ("shipping_address_id",), "addresses", ("id",)),
    ("order_items", ("order_id",), "orders", ("id",)),
    ("payments", ("order_id",), "orders", ("id",)),
    ("support_tickets", ("customer_id",), "customers", ("id",)),
    ("support_tickets", ("order_id", "line_no"), "order_items", ("order_id", "line_no")),
]

UNIQUE_KEYS = [("customers", ("id",)), ("customers", ("email",)), ("addresses", ("id",)), ("orders", ("id",)),
               ("order_items", ("order_id", "line_no")), ("payments", ("id",)), ("support_tickets", ("id",))]

# Text columns whose original values must not appear anywhere in a masked copy.
PERSONAL_TEXT = [("customers", "email"), ("customers", "full_name"), ("customers", "phone"),
                 ("addresses", "street"), ("payments", "card_number")]

POLICY = """
version: 1
secret_env: JANEDOE_TEST_SECRET
default: error
tables:
  customers:
    columns:
      id: {mask: keyed_permutation}
      email: {mask: pseudonymize, kind: email, unique: true, pool_size: 1000}
      full_name: {mask: pseudonymize, kind: name, locale: de_DE, pool_size: 500}
      phone: {mask: pseudonymize, kind: phone_number, pool_size: 500}
      birth_date: {mask: generalize, to: year}
      created_at: {mask: keep}
  addresses:
    columns:
      id: {mask: keep}
      street: {mask: pseudonymize, kind: street_address, locale: de_DE, pool_size: 500}
      city: {mask: keep}
      postal_code: {mask: partial, prefix: 2, padding: xxx, suffix: 0}
  orders:
    columns:
      id: {mask: hash}
      placed_at: {mask: keep}
      status: {mask: keep}
      total: {mask: keep}
  order_items:
    columns:
      line_no: {mask: keep}
      product_sku: {mask: keep}
      quantity: {mask: keep}
      unit_price: {mask: keep}
  payments:
    columns:
      id: {mask: keep}
      card_number: {mask: partial, prefix: 0, padding: "XXXX-XXXX-XXXX-", suffix: 4}
      amount: {mask: keep}
      paid_at: {mask: keep}
  support_tickets:
    columns:
      id: {mask: keep}
      line_no: {mask: keep}
      notes: {mask: "null"}
      opened_at: {mask: keep}
"""

SECRET = "test-secret-for-the-shop-database"


def generate_rows(customers: int = 120, seed: int = 7) -> dict[str, list[tuple]]:
    fake = Faker("en_US")
    Faker.seed(seed)
    rng = random.Random(seed)
    rows: dict[str, list[tuple]] = {name: [] for name in TABLES}
    emails = set()
    people = []
    for customer_id in range(1, customers + 1):
        email = fake.unique.email()
        emails.add(email)
        name = fake.name()
        phone = fake.phone_number()
        people.append((name, email, phone))
        referred = rng.randint(1, customer_id - 1) if customer_id > 1 and rng.random() < 0.4 else None
        rows["customers"].append((customer_id, email, name, phone, fake.date_of_birth(minimum_age=18).isoformat(),
                                  referred, None, fake.date_time_between("-3y").strftime("%Y-%m-%d %H:%M:%S")))
    address_id = 0
    favorites = {}
    for customer_id in range(1, customers + 1):
        for _ in range(rng.randint(1, 2)):
            address_id += 1
            rows["addresses"].append((address_id, customer_id, fake.street_address(), fake.city(), fake.postcode()))
            favorites.setdefault(customer_id, address_id)
    rows["customers"] = [row[:6] + (favorites[row[0]] if rng.random() < 0.7 else None,) + row[7:]
                         for row in rows["customers"]]
    addresses_of = {}
    for row in rows["addresses"]:
        addresses_of.setdefault(row[1], []).append(row[0])
    order_id = 0
    payment_id = 0
    for customer_id in range(1, customers + 1):
        for _ in range(rng.randint(0, 4)):
            order_id += 1
            lines = rng.randint(1, 4)
            total = 0
            for line_no in range(1, lines + 1):
                quantity = rng.randint(1, 5)
                price = rng.randint(100, 9999) / 100
                total += quantity * price
                sku = f"SKU-{rng.randint(1, 300):04d}"
                rows["order_items"].append((order_id, line_no, sku, quantity, f"{price:.2f}"))
            placed = fake.date_time_between("-2y").strftime("%Y-%m-%d %H:%M:%S")
            shipping = rng.choice(addresses_of[customer_id]) if rng.random() < 0.9 else None
            rows["orders"].append((order_id, customer_id, shipping, placed, rng.choice(["new", "paid", "shipped"]),
                                   f"{total:.2f}"))
            payment_id += 1
            rows["payments"].append((payment_id, order_id, fake.credit_card_number(), f"{total:.2f}", placed))
    items = [(r[0], r[1]) for r in rows["order_items"]]
    customer_of_order = {r[0]: r[1] for r in rows["orders"]}
    for ticket_id in range(1, customers // 2 + 1):
        if rng.random() < 0.6:
            order, line = rng.choice(items)
            customer_id = customer_of_order[order]
        else:
            order, line = None, None
            customer_id = rng.randint(1, customers)
        name, email, phone = people[customer_id - 1]
        notes = f"{name} wrote from {email}; call back on {phone}."
        rows["support_tickets"].append((ticket_id, customer_id, order, line, notes,
                                        fake.date_time_between("-1y").strftime("%Y-%m-%d %H:%M:%S")))
    return rows


def build_sqlite(path: str, customers: int = 120) -> None:
    conn = sqlite3.connect(path)
    schema = SCHEMA.format(serial="INTEGER").replace(
        "favorite_address_id INTEGER,", "favorite_address_id INTEGER REFERENCES addresses(id),"
    )
    conn.executescript(schema)
    for table, rows in generate_rows(customers).items():
        marks = ", ".join("?" for _ in rows[0])
        conn.executemany(f"INSERT INTO {table} VALUES ({marks})", rows)
    conn.commit()
    conn.close()


def build_postgres(url: str, customers: int = 120) -> None:
    import psycopg

    with psycopg.connect(url) as conn:
        conn.execute(SCHEMA.format(serial="SERIAL"))
        conn.execute(CYCLE_POSTGRES)
        for table, rows in generate_rows(customers).items():
            marks = ", ".join("%s" for _ in rows[0])
            with conn.cursor() as cursor:
                cursor.executemany(f"INSERT INTO {table} VALUES ({marks})", rows)
        conn.execute("SELECT setval('customers_id_seq', (SELECT max(id) FROM customers))")


def table_names(db) -> set[str]:
    """Every table in the database (PostgreSQL: its public schema), including any bookkeeping table left behind."""
    sql = ("SELECT tablename FROM pg_tables WHERE schemaname = 'public'" if db.postgres
           else "SELECT name FROM sqlite_master WHERE type = 'table'")
    return {r[0] for r in db.rows(sql)}


class Database:
    """Plain SQL access to either engine, for the checks (independent of janedoe.sqldb)."""

    def __init__(self, url_or_path: str) -> None:
        self.postgres = url_or_path.startswith("postgresql://")
        if self.postgres:
            import psycopg

            self.conn = psycopg.connect(url_or_path, autocommit=True)
        else:
            self.conn = sqlite3.connect(url_or_path)

    def rows(self, sql: str) -> list[tuple]:
        return list(self.conn.execute(sql).fetchall())

    def value(self, sql: str):
        return self.rows(sql)[0][0]

    def close(self) -> None:
        self.conn.close()


def dangling_references(db: Database, keys=FOREIGN_KEYS, tables=None) -> dict:
    problems = {}
    for child, columns, parent, referred in keys:
        if tables is not None and child not in tables:
            continue
        on = " AND ".join(f"c.{a} = p.{b}" for a, b in zip(columns, referred, strict=True))
        present = " AND ".join(f"c.{a} IS NOT NULL" for a in columns)
        missing = f"p.{referred[0]} IS NULL"
        count = db.value(f"SELECT count(*) FROM {child} c LEFT JOIN {parent} p ON {on} WHERE {present} AND {missing}")
        if count:
            problems[(child, columns)] = count
    return problems


def duplicate_keys(db: Database, keys=UNIQUE_KEYS) -> dict:
    problems = {}
    for table, columns in keys:
        cols = ", ".join(columns)
        count = db.value(f"SELECT count(*) FROM (SELECT {cols} FROM {table} GROUP BY {cols} HAVING count(*) > 1) d")
        if count:
            problems[(table, columns)] = count
    return problems


def row_counts(db: Database) -> dict[str, int]:
    return {table: db.value(f"SELECT count(*) FROM {table}") for table in TABLES}


def join_shapes(db: Database) -> dict[str, list]:
    """Multisets of fan-outs across the joins; equal in source and copy if every key still matches its rows."""
    queries = {
        "items_per_customer": "SELECT count(i.line_no) FROM customers c JOIN orders o ON o.customer_id = c.id"
                              " JOIN order_items i ON i.order_id = o.id GROUP BY c.id",
        "orders_per_customer": "SELECT count(o.id) FROM customers c LEFT JOIN orders o ON o.customer_id = c.id"
                               " GROUP BY c.id",
        "tickets_per_item": "SELECT count(t.id) FROM order_items i LEFT JOIN support_tickets t"
                            " ON t.order_id = i.order_id AND t.line_no = i.line_no GROUP BY i.order_id, i.line_no",
        "referrals": "SELECT count(r.id) FROM customers c LEFT JOIN customers r ON r.referred_by = c.id GROUP BY c.id",
        "favorite_is_own": "SELECT count(*) FROM customers c JOIN addresses a ON a.id = c.favorite_address_id"
                           " WHERE a.customer_id = c.id",
        "payment_matches_total": "SELECT count(*) FROM payments p JOIN orders o ON o.id = p.order_id"
                                 " WHERE p.amount = o.total",
    }
    return {name: sorted(r[0] for r in db.rows(sql)) for name, sql in queries.items()}


def all_text(db: Database) -> list[str]:
    cells = []
    for table in TABLES:
        for row in db.rows(f"SELECT * FROM {table}"):
            cells.extend(str(v) for v in row if v is not None)
    return cells


def original_personal_values(db: Database) -> set[str]:
    values = set()
    for table, column in PERSONAL_TEXT:
        values |= {r[0] for r in db.rows(f"SELECT {column} FROM {table} WHERE {column} IS NOT NULL")}
    return values


def leaked_values(source: Database, target: Database) -> set[str]:
    """Original personal values found in any cell of the target, whole or inside free text."""
    originals = original_personal_values(source)
    cells = all_text(target)
    exact = originals & set(cells)
    blob = "\n".join(cells)
    inside = {v for v in originals if len(v) >= 8 and v in blob}
    return exact | inside


def table_hashes(db: Database) -> dict[str, str]:
    """A hash of each table's rows in a canonical order: unchanged hashes mean an unchanged source."""
    hashes = {}
    for table in TABLES:
        rows = sorted(repr(r) for r in db.rows(f"SELECT * FROM {table}"))
        hashes[table] = hashlib.sha256("\n".join(rows).encode()).hexdigest()
    return hashes


def file_digest(path: str) -> str:
    with open(path, "rb") as stream:
        return hashlib.sha256(stream.read()).hexdigest()
