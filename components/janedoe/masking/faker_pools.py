"""Pools of realistic values from Faker, built once per (kind, locale, seed, size) and reused.

Calling Faker per row runs at a few thousand values per second; drawing from a pool is an Arrow `take`.
Each pool has its own seeded Faker instance (never Faker's global seed), so a pool is reproducible from its seed.
"""

import datetime as dt
import decimal
import functools

import pyarrow as pa
import pyarrow.compute as pc
from faker import Faker
from janedoe.errors import JaneDoeInputError

_NOT_PROVIDERS = {
    "seed",
    "seed_instance",
    "seed_locale",
    "add_provider",
    "get_providers",
    "provider",
    "format",
    "parse",
    "set_formatter",
    "get_formatter",
    "set_arguments",
    "get_arguments",
    "del_arguments",
    "random",
    "locales",
    "weights",
    "factories",
    "unique",
    "optional",
    "items",
    "generator_attrs",
    "binary",
    "zip",
    "tar",
    "image",
    "json",
    "json_bytes",
    "xml",
    "csv",
    "tsv",
    "psv",
    "dsv",
    "fixed_width",
    "profile",
    "simple_profile",
    "pystruct",
    "pydict",
    "pylist",
    "pyset",
    "pytuple",
    "pyiterable",
}


@functools.lru_cache(maxsize=64)
def _faker(locale: str) -> Faker:
    return Faker(locale)


def check_provider(kind: str, locale: str, where: str) -> None:
    """A user error unless `kind` is a Faker provider method that returns one plain value without arguments."""
    try:
        fake = _faker(locale)
    except (AttributeError, ValueError):
        raise JaneDoeInputError(f"unknown Faker locale {locale!r}", where=where) from None
    if not kind.isidentifier() or kind.startswith("_") or kind in _NOT_PROVIDERS:
        raise JaneDoeInputError(f"{kind!r} is not a Faker provider usable for masking", where=where)
    try:
        method = getattr(fake, kind)
    except AttributeError:
        raise JaneDoeInputError(f"unknown Faker provider {kind!r} for locale {locale}", where=where) from None
    if not callable(method):
        raise JaneDoeInputError(f"{kind!r} is not a Faker provider method", where=where)
    try:
        method()
    except TypeError:
        raise JaneDoeInputError(f"Faker provider {kind!r} needs arguments; pick another", where=where) from None


def _to_arrow(values: list) -> pa.Array:
    first = values[0]
    if isinstance(first, bool | int | float | str | dt.date | dt.time | decimal.Decimal):
        try:
            return pa.array(values)
        except (pa.ArrowInvalid, pa.ArrowTypeError):
            pass
    return pa.array([str(value) for value in values], pa.string())


@functools.lru_cache(maxsize=256)
def faker_pool(kind: str, locale: str, seed: int, size: int) -> pa.Array:
    """`size` values from one Faker provider, reproducible from `seed`."""
    fake = Faker(locale)
    fake.seed_instance(seed)
    method = getattr(fake, kind)
    return _to_arrow([method() for _ in range(size)])


@functools.lru_cache(maxsize=256)
def distinct_faker_pool(kind: str, locale: str, seed: int, size: int) -> pa.Array:
    """A pool without repeated values (for unique pseudonyms): at most `size` distinct values."""
    return pc.unique(faker_pool(kind, locale, seed, size))


def fit_pool_to(pool: pa.Array, input_type: pa.DataType) -> pa.Array:
    """Keep the column's type when the pool's values can take it (text columns stay text)."""
    if pool.type == input_type:
        return pool
    if pa.types.is_string(input_type) or pa.types.is_large_string(input_type):
        return pc.cast(pool, pa.string()) if not pa.types.is_string(pool.type) else pool
    try:
        return pc.cast(pool, input_type, safe=True)
    except (pa.ArrowInvalid, pa.ArrowNotImplementedError, pa.ArrowTypeError):
        return pool
