"""Fixtures: the shop database in SQLite and PostgreSQL, the test policy and its secret."""

import importlib.util
import os
import uuid

import pytest

_SHOP = os.path.join(os.path.dirname(__file__), "shop_database.py")
_spec = importlib.util.spec_from_file_location("shop_database", _SHOP)
shop = importlib.util.module_from_spec(_spec)
_spec.loader.exec_module(shop)


@pytest.fixture
def shop_module():
    return shop


@pytest.fixture
def secret_env(monkeypatch):
    monkeypatch.setenv("JANEDOE_TEST_SECRET", shop.SECRET)


@pytest.fixture
def policy(secret_env):
    from janedoe.policy import parse_policy

    return parse_policy(shop.POLICY, "shop-policy.yaml")


@pytest.fixture
def sqlite_shop(tmp_path):
    path = str(tmp_path / "shop.db")
    shop.build_sqlite(path)
    return path


@pytest.fixture
def postgres_shop(postgres_url):
    shop.build_postgres(postgres_url)
    return postgres_url


@pytest.fixture
def second_postgres(postgres_server):
    """An empty database on the same server, for a copy's target."""
    import psycopg

    name = f"t_{uuid.uuid4().hex[:12]}"
    with psycopg.connect(postgres_server, autocommit=True) as conn:
        conn.execute(f'CREATE DATABASE "{name}"')
    yield postgres_server.rsplit("/", 1)[0] + f"/{name}"
    with psycopg.connect(postgres_server, autocommit=True) as conn:
        conn.execute(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)')
