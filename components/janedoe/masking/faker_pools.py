"""Pools of realistic values from Faker, built once per (kind, locale, size) and reused.

Calling Faker per row runs at a few thousand values per second; drawing from a pool is an Arrow `take`.
A pool is drawn once with a fixed public seed from its own Faker instance (never Faker's global seed) and cached on
disk (pool_cache); a seeded pool is that public pool in an order given by the seed, so for a secret-derived seed the
order is secret while nothing secret is ever stored. Faker itself is imported only when a pool must be drawn.
"""

import datetime as dt
import decimal
import functools
import hashlib
import json
import random
import re
from collections import OrderedDict
from itertools import accumulate

import numpy as np
import pyarrow as pa
import pyarrow.compute as pc
from janedoe.errors import JaneDoeInputError
from janedoe.masking.pool_cache import load_pool, store_pool

PUBLIC_SEED = 0

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
def _faker(locale: str):
    from faker import Faker

    return Faker(locale)


def check_provider(kind: str, locale: str, where: str, args: tuple = ()) -> None:
    """A user error unless `kind` is a Faker provider method that returns one plain value with these arguments."""
    _check_kind_name(kind, where)
    try:
        fake = _faker(locale)
    except (AttributeError, ValueError):
        raise JaneDoeInputError(f"unknown Faker locale {locale!r}", where=where) from None
    try:
        method = getattr(fake, kind)
    except AttributeError:
        raise JaneDoeInputError(f"unknown Faker provider {kind!r} for locale {locale}", where=where) from None
    if not callable(method):
        raise JaneDoeInputError(f"{kind!r} is not a Faker provider method", where=where)
    try:
        value = method(**dict(args))
    except TypeError:
        if args:
            names = ", ".join(name for name, _ in args)
            raise JaneDoeInputError(f"Faker provider {kind!r} does not take these args: {names}",
                                    where=f"{where}.args") from None
        raise JaneDoeInputError(f"Faker provider {kind!r} needs arguments; give them with args:", where=where) from None
    except (ValueError, AttributeError, KeyError) as error:
        raise JaneDoeInputError(f"Faker provider {kind!r} refused its args ({type(error).__name__})",
                                where=f"{where}.args") from None
    if isinstance(value, dict):
        raise JaneDoeInputError(f"Faker provider {kind!r} returns a mapping, not a value", where=where)


def _check_kind_name(kind: str, where: str) -> None:
    if not kind.isidentifier() or kind.startswith("_") or kind in _NOT_PROVIDERS:
        raise JaneDoeInputError(f"{kind!r} is not a Faker provider usable for masking", where=where)


def _to_arrow(values: list, separator: str = " ") -> pa.Array:
    """Plain values as they are; lists (`words`, `sentences`) joined into text, never a Python list's repr."""
    first = values[0]
    if isinstance(first, list | tuple | set):
        return pa.array([separator.join(str(item) for item in value) for value in values], pa.string())
    if isinstance(first, bool | int | float | str | dt.date | dt.time | decimal.Decimal):
        try:
            return pa.array(values)
        except (pa.ArrowInvalid, pa.ArrowTypeError):
            pass
    return pa.array([str(value) for value in values], pa.string())


class _CumulativeWeightsRandom(random.Random):
    """Draws exactly what `random.Random` draws, but sums each weight table once instead of once per draw.

    Faker picks first names, last names, email domains... with `choices(population, weights)`, which re-sums
    thousands of weights on every call: most of a pool's build time. The sums are the same floats in the same order,
    and the same `random()` calls are made, so pools (and therefore pseudonyms) are identical to plain Faker's.
    """

    def __init__(self) -> None:
        super().__init__()
        self._cumulative: dict[int, tuple] = {}

    def choices(self, population, weights=None, *, cum_weights=None, k=1):
        if weights is None or cum_weights is not None:
            return super().choices(population, weights, cum_weights=cum_weights, k=k)
        cached = self._cumulative.get(id(population))
        # Holding `population` keeps its id from being reused; equal weights (the same float objects) reuse the sums.
        if cached is None or cached[0] is not population or cached[1] != weights:
            weights = tuple(weights)
            cached = (population, weights, list(accumulate(weights)))
            self._cumulative[id(population)] = cached
        return super().choices(population, cum_weights=cached[2], k=k)


def _seeded_faker(locale: str, seed: int):
    from faker import Faker

    fake = Faker(locale)
    fake.seed_instance(seed)
    fast = _CumulativeWeightsRandom()
    fast.setstate(fake.random.getstate())
    fake.random = fast  # type: ignore[attr-defined]  # Faker's proxy forwards it to its one generator; its stub omits it
    for provider in fake.get_providers():
        provider.random_elements = _single_weighted_draw(provider, fast)
    return fake


def _single_weighted_draw(provider, fast: _CumulativeWeightsRandom):
    """Faker's `random_elements`, with one weighted draw from a weight table taking the cached sums directly.

    Faker copies the table's weights into a new tuple on every draw (`tuple(elements.values())`); a table's keys are
    already cached by Faker itself (`_key_cache`), and its weights never change, so both are reused here. Every other
    call goes to Faker's own method unchanged.
    """
    original = provider.random_elements
    use_weighting_default = provider.__use_weighting__
    tables: dict[int, tuple] = {}

    def random_elements(elements=("a", "b", "c"), length=None, unique=False, use_weighting=None):
        weighted = use_weighting if use_weighting is not None else use_weighting_default
        if length != 1 or unique or not weighted or not isinstance(elements, OrderedDict) or not elements:
            return original(elements, length, unique, use_weighting)
        cached = tables.get(id(elements))
        if cached is None or cached[0] is not elements or len(cached[1]) != len(elements):
            keys = tuple(elements.keys())
            cached = (elements, keys, list(accumulate(elements.values())))
            tables[id(elements)] = cached
        return fast.choices(cached[1], cum_weights=cached[2], k=1)

    return random_elements


@functools.lru_cache(maxsize=256)
def faker_pool(kind: str, locale: str, seed: int, size: int, where: str = "kind") -> pa.Array:
    """`size` values from one Faker provider in an order reproducible from `seed`."""
    return _seeded_order(public_faker_pool(kind, locale, size, where), seed)


@functools.lru_cache(maxsize=256)
def distinct_faker_pool(kind: str, locale: str, seed: int, size: int, where: str = "kind") -> pa.Array:
    """A pool without repeated values (for unique pseudonyms): at most `size` distinct values."""
    return _seeded_order(pc.unique(public_faker_pool(kind, locale, size, where)), seed)


def _seeded_order(pool: pa.Array, seed: int) -> pa.Array:
    return pool.take(pa.array(np.random.default_rng(seed).permutation(len(pool))))


_PUBLIC_POOLS: dict[tuple, pa.Array] = {}


def public_faker_pool(kind: str, locale: str, size: int, where: str = "kind", args: tuple = (),
                      separator: str = " ") -> pa.Array:
    """The `size` values Faker draws for `kind` (called with `args`, name-value pairs) from PUBLIC_SEED: from
    memory, the disk cache, or Faker."""
    key = (kind, locale, size, args, separator)
    pool = _PUBLIC_POOLS.get(key)
    if pool is None:
        _check_kind_name(kind, where)
        name = _cache_name(kind, locale, size, args, separator) if _LOCALE_NAME.fullmatch(locale) else None
        pool = load_pool(name) if name else None
        if pool is None:
            check_provider(kind, locale, where, args)
            pool = draw_pool(kind, locale, PUBLIC_SEED, size, args, separator)
            if name:
                store_pool(name, pool)
        _PUBLIC_POOLS[key] = pool
    return pool


_LOCALE_NAME = re.compile(r"[A-Za-z]{2,3}(_[A-Za-z]{2,4})?")


def _cache_name(kind: str, locale: str, size: int, args: tuple = (), separator: str = " ") -> str:
    from importlib.metadata import version

    name = f"faker-{version('faker')}-{locale}-{kind}-{size}"
    if args or separator != " ":  # the arguments as a digest: a file name never holds policy text
        canonical = json.dumps([list(args), separator], sort_keys=True, default=str)
        name += "-" + hashlib.sha256(canonical.encode()).hexdigest()[:16]
    return name


def draw_pool(kind: str, locale: str, seed: int, size: int, args: tuple = (), separator: str = " ") -> pa.Array:
    """`size` draws from a Faker instance of its own, seeded with `seed` (exactly what plain Faker would draw)."""
    fake = _seeded_faker(locale, seed)
    method = getattr(fake, kind)
    keywords = dict(args)
    return _to_arrow([method(**keywords) for _ in range(size)], separator)


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


def picks_unlike_originals(pool: pa.Array, picks: np.ndarray, originals: pa.Array) -> np.ndarray:
    """`picks` with every pick whose pool value equals the row's own original moved on to the next pool entry that
    differs, so a masked value is never the value it replaces (a pool of one repeated value cannot help that)."""
    pool_text = pc.cast(pool, pa.string()) if not pa.types.is_string(pool.type) else pool
    original_text = pc.cast(originals, pa.string()) if not pa.types.is_string(originals.type) else originals
    picks = np.asarray(picks, dtype=np.int64).copy()
    rows = np.arange(len(picks))
    for _ in range(len(pool)):
        same = pc.equal(pool_text.take(pa.array(picks[rows])), original_text.take(pa.array(rows)))
        rows = rows[same.fill_null(False).to_numpy(zero_copy_only=False)]
        if not len(rows):
            break
        picks[rows] = (picks[rows] + 1) % len(pool)
    return picks
