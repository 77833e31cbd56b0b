"""The demo's database steps: the shop built from the bundled customers, copied with data/demo/shop_policy.yaml."""

import importlib.util
import os
import sqlite3
import subprocess
import sys
from pathlib import Path

ROOT = Path(__file__).resolve().parents[4]
JANEDOE = os.path.join(os.path.dirname(sys.executable), "janedoe")


def _demo_module():
    spec = importlib.util.spec_from_file_location("demo_script", ROOT / "scripts" / "demo.py")
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    return module


def test_the_demo_shop_copies_with_its_policy(tmp_path):
    source, target = tmp_path / "shop.db", tmp_path / "shop.masked.db"
    _demo_module().build_shop_database(source)
    before = source.read_bytes()
    run = subprocess.run(
        [JANEDOE, "db", "copy", "--policy", str(ROOT / "data" / "demo" / "shop_policy.yaml"),
         "--from", f"sqlite:///{source}", "--to", f"sqlite:///{target}"],
        capture_output=True, text=True, env={**os.environ, "JANEDOE_SECRET": "demo-test-secret"}, cwd=ROOT,
    )
    assert run.returncode == 0, run.stderr
    assert source.read_bytes() == before
    raw, masked = sqlite3.connect(source), sqlite3.connect(target)
    for table in ("customers", "orders"):
        query = f"SELECT count(*) FROM {table}"
        assert masked.execute(query).fetchone() == raw.execute(query).fetchone()
    assert masked.execute("PRAGMA foreign_key_check").fetchall() == []
    for column in ("email", "notes"):  # no original anywhere in the copy
        originals = {r[0] for r in raw.execute(f"SELECT {column} FROM customers") if r[0]}
        assert not originals & {r[0] for r in masked.execute(f"SELECT {column} FROM customers")}
    # Order ids are kept: through them each customer in the copy is matched with its original. Fake names can
    # equal some real (Faker-made) name by chance; a customer keeping its own name must stay that rare.
    names = "SELECT o.id, c.name FROM orders o JOIN customers c ON c.id = o.customer_id ORDER BY o.id"
    pairs = list(zip(raw.execute(names), masked.execute(names), strict=True))
    assert all(a[0] == b[0] for a, b in pairs)
    assert sum(a[1] == b[1] for a, b in pairs) <= 0.01 * len(pairs)
    emails = [r[0] for r in masked.execute("SELECT email FROM customers")]
    assert len(set(emails)) == len(emails)
    orders_per_customer = "SELECT count(*) FROM orders GROUP BY customer_id ORDER BY 1"
    assert masked.execute(orders_per_customer).fetchall() == raw.execute(orders_per_customer).fetchall()
