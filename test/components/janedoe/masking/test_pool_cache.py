"""The disk cache of public Faker pools: written once, read back identical, and never trusted when damaged."""

import pyarrow as pa
from janedoe.masking import faker_pools
from janedoe.masking.pool_cache import cache_dir, load_pool, pool_path, store_pool


def _fresh(monkeypatch, folder):
    monkeypatch.setenv("JANEDOE_CACHE_DIR", str(folder))
    monkeypatch.setattr(faker_pools, "_PUBLIC_POOLS", {})


def test_a_pool_is_stored_once_and_read_back_unchanged(tmp_path, monkeypatch):
    _fresh(monkeypatch, tmp_path)
    drawn = faker_pools.public_faker_pool("street_address", "en_US", 64)
    files = list((tmp_path / "faker-pools").glob("*.parquet"))
    assert len(files) == 1 and "street_address" in files[0].name
    _fresh(monkeypatch, tmp_path)
    monkeypatch.setattr(faker_pools, "draw_pool", lambda *args: (_ for _ in ()).throw(AssertionError("drew again")))
    assert faker_pools.public_faker_pool("street_address", "en_US", 64).equals(drawn)


def test_a_damaged_cache_file_is_ignored_and_replaced(tmp_path, monkeypatch):
    _fresh(monkeypatch, tmp_path)
    drawn = faker_pools.public_faker_pool("city", "en_US", 32)
    (path,) = (tmp_path / "faker-pools").glob("*.parquet")
    path.write_bytes(b"not parquet")
    _fresh(monkeypatch, tmp_path)
    assert faker_pools.public_faker_pool("city", "en_US", 32).equals(drawn)
    assert load_pool(path.stem).equals(drawn)


def test_cache_off_and_unwritable_cache_only_cost_time(tmp_path, monkeypatch):
    monkeypatch.setenv("JANEDOE_CACHE_DIR", "off")
    assert cache_dir() is None and pool_path("x") is None and load_pool("x") is None
    store_pool("x", pa.array(["a"]))  # nowhere to store: no error
    blocked = tmp_path / "file"
    blocked.write_text("a file where the cache folder should be")
    _fresh(monkeypatch, blocked)
    assert faker_pools.public_faker_pool("city", "en_US", 16).to_pylist()
    assert not (blocked / "faker-pools").exists()


def test_kind_and_locale_never_become_paths_outside_the_cache(tmp_path, monkeypatch):
    import pytest
    from janedoe.errors import JaneDoeInputError

    _fresh(monkeypatch, tmp_path)
    with pytest.raises(JaneDoeInputError):
        faker_pools.public_faker_pool("../../etc", "en_US", 16)
    with pytest.raises(JaneDoeInputError):
        faker_pools.public_faker_pool("city", "../en_US", 16)
    assert not list(tmp_path.rglob("*.parquet"))
