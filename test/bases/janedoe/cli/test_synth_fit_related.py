"""`janedoe synth fit-related`: the real console script on real files; keys consistent, one charge, one-line errors."""

import os
import subprocess
import sys

import numpy as np
import pyarrow as pa
import pyarrow.csv as pacsv
import pytest

JANEDOE = os.path.join(os.path.dirname(sys.executable), "janedoe")

POLICY = """\
version: 1
tables:
  customers:
    synthetic: {method: mst, epsilon: 2.0, delta: 1.0e-9}
    columns:
      segment: {categories: [retail, business]}
      age: {bounds: [18, 90], bins: 8}
  orders:
    columns:
      category: {categories: [food, office, toys]}
      amount: {bounds: [0, 500], bins: 10}
"""


def _run(*args):
    return subprocess.run([JANEDOE, *map(str, args)], capture_output=True, text=True, timeout=120)


@pytest.fixture
def shop(tmp_path):
    rng = np.random.default_rng(0)
    customers = 800
    business = rng.random(customers) < 0.4
    counts = rng.poisson(np.where(business, 4, 1))
    owner = np.repeat(np.arange(customers), counts)
    ids = np.array([f"c-{i:05d}" for i in rng.permutation(customers)])
    pacsv.write_csv(pa.table({"id": ids, "segment": np.where(business, "business", "retail"),
                              "age": rng.integers(18, 91, customers)}), tmp_path / "customers.csv")
    category = np.where(business[owner], "office", rng.choice(["food", "toys"], owner.size))
    pacsv.write_csv(pa.table({"order_id": np.arange(owner.size) + 9000, "customer_id": ids[owner],
                              "category": category, "amount": rng.integers(0, 501, owner.size)}),
                    tmp_path / "orders.csv")
    (tmp_path / "policy.yaml").write_text(POLICY)
    return tmp_path


def _args(shop, *extra):
    return ("synth", "fit-related", shop / "customers.csv", shop / "orders.csv", shop / "out_customers.csv",
            shop / "out_orders.csv", "--policy", shop / "policy.yaml", "--parent-key", "id", "--foreign-key",
            "customer_id", "--child-key", "order_id", "--context", "segment", *extra)


def test_fit_related_writes_two_tables_with_consistent_fresh_keys_and_charges_once(shop):
    from janedoe.dp_noise import rho_from_epsilon_delta
    from janedoe.ledger import Ledger

    ledger = shop / "ledger.db"
    with Ledger.open(str(ledger)) as book:
        book.set_budget("customers", "ana", rho=1.5 * rho_from_epsilon_delta(2.0, 1e-9))
    done = _run(*_args(shop, "--max-children", 5, "--seed", 1, "--ledger", ledger, "--analyst", "ana"))
    assert done.returncode == 0, done.stderr
    assert "epsilon=2" in done.stdout and "at most 5 children" in done.stdout
    parents, children = pacsv.read_csv(shop / "out_customers.csv"), pacsv.read_csv(shop / "out_orders.csv")
    assert parents.column_names == ["id", "segment", "age"]
    assert children.column_names == ["order_id", "customer_id", "category", "amount"]
    keys = parents.column("id").to_numpy()
    assert np.array_equal(keys, np.arange(1, keys.size + 1))
    references = children.column("customer_id").to_numpy()
    assert np.isin(references, keys).all() and np.bincount(references).max() <= 5
    business = parents.column("segment").to_numpy(zero_copy_only=False)[references - 1] == "business"
    assert np.mean(children.column("category").to_numpy(zero_copy_only=False)[business] == "office") > 0.8
    with Ledger.open(str(ledger)) as book:
        assert book.budget("customers", "ana").spent == pytest.approx(rho_from_epsilon_delta(2.0, 1e-9))
    done = _run(*_args(shop, "--max-children", 5, "--ledger", ledger, "--analyst", "ana"))
    assert done.returncode == 2 and done.stderr.count("\n") == 1  # the second fit would overspend


def test_bad_declarations_exit_2_in_one_line_before_any_output(shop):
    done = _run(*_args(shop, "--max-children", 0))
    assert done.returncode == 2 and done.stderr.count("\n") == 1 and "max_children" in done.stderr
    done = _run(*_args(shop, "--max-children", 5, "--context", "age", "--context", "age"))
    assert done.returncode == 2 and "context" in done.stderr
    (shop / "policy.yaml").write_text(POLICY.replace("      amount: {bounds: [0, 500], bins: 10}\n", ""))
    done = _run(*_args(shop, "--max-children", 5))
    assert done.returncode == 2 and done.stderr.count("\n") == 1 and "amount" in done.stderr
    assert not (shop / "out_customers.csv").exists() and not (shop / "out_orders.csv").exists()


RELATION = """\
relations:
  - {parent: customers, child: orders, parent_key: id, foreign_key: customer_id, child_key: order_id,
     max_children: 3, context: [segment]}
"""


def _files(shop):
    return ("synth", "fit-related", shop / "customers.csv", shop / "orders.csv", shop / "out_customers.csv",
            shop / "out_orders.csv", "--policy", shop / "policy.yaml")


def test_the_policy_declares_the_pair_and_flags_override_it(shop):
    (shop / "policy.yaml").write_text(POLICY + RELATION)
    done = _run(*_files(shop), "--seed", 2)
    assert done.returncode == 0, done.stderr
    assert "at most 3 children" in done.stdout
    parents, children = pacsv.read_csv(shop / "out_customers.csv"), pacsv.read_csv(shop / "out_orders.csv")
    assert children.column_names == ["order_id", "customer_id", "category", "amount"]
    references = children.column("customer_id").to_numpy()
    assert np.isin(references, parents.column("id").to_numpy()).all() and np.bincount(references).max() <= 3
    business = parents.column("segment").to_numpy(zero_copy_only=False)[references - 1] == "business"
    assert np.mean(children.column("category").to_numpy(zero_copy_only=False)[business] == "office") > 0.8
    done = _run(*_files(shop), "--seed", 2, "--max-children", 1)
    assert done.returncode == 0, done.stderr
    assert np.bincount(pacsv.read_csv(shop / "out_orders.csv").column("customer_id").to_numpy()).max() == 1


def test_a_declared_key_missing_from_the_file_or_no_declaration_exits_2_naming_the_field(shop):
    (shop / "policy.yaml").write_text(POLICY + RELATION.replace("foreign_key: customer_id", "foreign_key: client"))
    done = _run(*_files(shop))
    assert done.returncode == 2 and done.stderr.count("\n") == 1
    assert "relations.0.foreign_key" in done.stderr and "'client' is not a column of orders.csv" in done.stderr
    done = _run(*_files(shop), "--foreign-key", "customer_id", "--max-children", 0)
    assert done.returncode == 2 and "max_children" in done.stderr  # the flag wins over the policy
    (shop / "policy.yaml").write_text(POLICY)
    done = _run(*_files(shop), "--parent-key", "id")
    assert done.returncode == 2 and done.stderr.count("\n") == 1 and "--foreign-key" in done.stderr
    assert not (shop / "out_customers.csv").exists() and not (shop / "out_orders.csv").exists()
