"""Keyed digests of a real table's identifier values, to find them in what a job wrote without keeping them.

The key is drawn at random when the index is built and lives only in this object (it cannot be pickled), so the
digests mean nothing outside this process. Only values that could single a person out are kept: text with a letter
and at least 4 characters, or at least 7 digits (short numbers and years would match every table of counts), held
by fewer than `common_at` rows of the real table (a city or first name that many share identifies no one).
"""

import hashlib
import secrets
from collections.abc import Iterable

import numpy as np
import pyarrow as pa
import pyarrow.compute as pc
from janedoe.output_checks.value_tokens import MAX_WORDS, as_text, joined_values, ngrams, tokens

_MIN_CHARS = 4
_MIN_DIGITS = 7


def _could_identify(text: pa.Array) -> pa.Array:
    with_letter = pc.and_(pc.match_substring_regex(text, r"\pL"), pc.greater_equal(pc.utf8_length(text), _MIN_CHARS))
    digits = pc.utf8_length(pc.replace_substring_regex(text, r"\D+", ""))
    return pc.or_(with_letter, pc.greater_equal(digits, _MIN_DIGITS))


class IdentifierIndex:
    """Keyed digests (a random in-memory HMAC key, never stored) of the real data's identifier values."""

    def __init__(self, digests: np.ndarray, word_counts: frozenset[int], key: bytes) -> None:
        self._digests = np.unique(digests.astype(np.uint64))
        self._word_counts = word_counts
        self._key = key

    @classmethod
    def from_table(cls, table: pa.Table, columns: Iterable[str], *, common_at: int | None = 10) -> "IdentifierIndex":
        """The identifier values of `columns` (string and integer columns; names compared case-insensitively, absent
        ones skipped). `common_at=None` keeps every value however many rows share it."""
        by_lower = {name.lower(): name for name in table.column_names}
        key = secrets.token_bytes(32)
        digests: list[np.ndarray] = []
        word_counts: set[int] = set()
        for wanted in columns:
            name = by_lower.get(wanted.lower())
            if name is None:
                continue
            column = table.column(name)
            kind = column.type.value_type if pa.types.is_dictionary(column.type) else column.type
            if not (pa.types.is_string(kind) or pa.types.is_large_string(kind) or pa.types.is_integer(kind)):
                continue  # dates, floats and booleans single no one out and match calendars and measurements
            values, counts = joined_values(as_text(column).drop_null())
            kept = _could_identify(values)
            values, counts = values.filter(kept), counts[np.asarray(kept, dtype=bool)]
            if common_at is not None and len(values):
                frequency = pc.value_counts(values)
                rare = frequency.field("values").filter(pc.less(frequency.field("counts"), common_at))
                rare_mask = np.asarray(pc.is_in(values, value_set=rare), dtype=bool)
                values, counts = values.filter(pa.array(rare_mask)), counts[rare_mask]
            distinct = pc.unique(values)
            digests.append(_digests(key, distinct))
            word_counts.update(int(c) for c in np.unique(counts))
        if not digests:
            return cls(np.array([], np.uint64), frozenset(), key)
        return cls(np.concatenate(digests), frozenset(word_counts), key)

    def __len__(self) -> int:
        return len(self._digests)

    def __repr__(self) -> str:
        return f"IdentifierIndex({len(self)} values)"

    def __reduce__(self):
        raise TypeError("an IdentifierIndex holds a key that never leaves its process")

    def overlap(self, values: pa.Array | list[str]) -> int:
        """How many given values are real identifiers, each compared whole (after the same normalisation)."""
        joined, _ = joined_values(as_text(values).drop_null())
        return self._hits(joined)

    def occurrences(self, texts: pa.Array | list[str]) -> int:
        """How many times a real identifier occurs inside the given texts: as a whole text, or as a run of its words
        anywhere in one (values of more than MAX_WORDS words only whole)."""
        texts = as_text(texts).drop_null()
        if len(self._digests) == 0 or len(texts) == 0:
            return 0
        flat, parents = tokens(texts)
        found = 0
        for n in sorted(self._word_counts):
            if n <= MAX_WORDS:
                found += self._hits(ngrams(flat, parents, n))
        long_values = [n for n in self._word_counts if n > MAX_WORDS]
        if long_values:
            joined, counts = joined_values(texts)
            found += self._hits(joined.filter(pa.array(np.isin(counts, long_values))))
        return found

    def _hits(self, candidates: pa.Array) -> int:
        if len(self._digests) == 0 or len(candidates) == 0:
            return 0
        encoded = pc.dictionary_encode(candidates)
        distinct = encoded.dictionary
        plausible = np.asarray(_could_identify(distinct), dtype=bool)
        known = np.zeros(len(distinct), dtype=bool)
        wanted = _digests(self._key, distinct.filter(pa.array(plausible)))
        positions = np.minimum(np.searchsorted(self._digests, wanted), len(self._digests) - 1)
        known[plausible] = self._digests[positions] == wanted  # sorted digests: a binary search, never a re-sort
        return int(known[np.asarray(encoded.indices)].sum())


def _digests(key: bytes, distinct: pa.Array) -> np.ndarray:
    """The first 8 bytes of each value's HMAC-SHA256 (RFC 2104, from precomputed pad states: about twice as fast
    as hmac.digest per value), as integers; collisions: about n*m / 2**64."""
    if len(distinct) == 0:
        return np.array([], np.uint64)
    padded = key.ljust(64, b"\0")
    inner_pad = hashlib.sha256(bytes(b ^ 0x36 for b in padded))
    outer_pad = hashlib.sha256(bytes(b ^ 0x5C for b in padded))
    words = bytearray()
    for value in distinct.cast(pa.binary()).to_pylist():
        inner = inner_pad.copy()
        inner.update(value)
        outer = outer_pad.copy()
        outer.update(inner.digest())
        words += outer.digest()[:8]
    return np.frombuffer(bytes(words), dtype=">u8").astype(np.uint64)
