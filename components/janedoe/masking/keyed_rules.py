"""Rules keyed by the secret: pseudonymize and hash. Both are pure functions of (secret, value), computed once per
distinct value in a batch, so they agree across rows, batches, tables, files and runs.
"""

import threading

import numpy as np
import pyarrow as pa
import pyarrow.compute as pc
from janedoe.masking.column_masker import BuildContext, ColumnMasker
from janedoe.masking.faker_pools import distinct_faker_pool, faker_pool, fit_pool_to, picks_unlike_originals
from janedoe.masking.keyed_digest import Hmac, as_text, derived_key, digest_words, hex_strings, per_distinct
from janedoe.policy import HashRule, PseudonymizeRule


def pool_seed(secret: bytes, kind: str, locale: str) -> int:
    """The seed of a pseudonym pool: from the secret, so another key gives other pools as well as other picks."""
    key = derived_key(secret, f"pseudonym pool\0{kind}\0{locale}")
    return int.from_bytes(key[:8], "big")


class UniqueAssignment:
    """Which pool entry each input (by its HMAC word) got, shared by every unique pseudonymize column of the process
    with the same key, kind, locale and pool, so a key and the foreign keys referencing it map the same way.

    Inputs are assigned in order of first appearance: while the pool has free entries, a new input takes the first
    free entry from its HMAC position on (linear probing: a Python step per input, at most the pool's size in a
    whole run); once the pool is used up, every new input gets its first choice with the next numeric suffix
    (vectorized). What was assigned is kept in sorted numpy arrays, looked up with searchsorted.
    """

    def __init__(self, pool: pa.Array) -> None:
        self.pool = pool
        self.pool_texts = pool.to_pylist()
        self.taken = np.zeros(len(pool), dtype=bool)
        self.free = len(pool)
        self.overflow = 0
        self.words = np.empty(0, dtype=np.uint64)  # sorted
        self.slots = np.empty(0, dtype=np.int64)
        self.suffixes = np.empty(0, dtype=np.int64)  # 0: none
        self.lock = threading.Lock()

    def assign(self, words: np.ndarray, texts: pa.Array) -> pa.Array:
        """The pseudonyms of inputs with these HMAC words and these texts (an input never gets its own text)."""
        words = np.asarray(words, dtype=np.uint64)
        with self.lock:
            self._assign_new(words, texts)
            at = np.searchsorted(self.words, words)
            slots, suffixes = self.slots[at], self.suffixes[at]
        chosen = self.pool.take(pa.array(slots))
        if not suffixes.any():
            return chosen
        numbered = pc.binary_join_element_wise(chosen, pc.cast(pa.array(suffixes), pa.string()), " ")
        return pc.if_else(pa.array(suffixes > 0), numbered, chosen)

    def _assign_new(self, words: np.ndarray, texts: pa.Array) -> None:
        distinct, first = np.unique(words, return_index=True)
        at = np.minimum(np.searchsorted(self.words, distinct), max(len(self.words) - 1, 0))
        known = (self.words[at] == distinct) if len(self.words) else np.zeros(len(distinct), dtype=bool)
        order = np.argsort(first[~known], kind="stable")  # in order of first appearance
        fresh = distinct[~known][order]
        if not len(fresh):
            return
        fresh_texts = texts.take(pa.array(first[~known][order]))
        size = len(self.pool)
        slots = (fresh % np.uint64(size)).astype(np.int64)
        suffixes = np.zeros(len(fresh), dtype=np.int64)
        probed = 0
        while probed < len(fresh) and self.free:
            start = int(slots[probed])
            free = (start + np.flatnonzero(~np.roll(self.taken, -start))) % size
            slot = int(free[0])
            if self.pool_texts[slot] == fresh_texts[probed].as_py():  # never an input's own value
                if len(free) == 1:
                    break
                slot = int(free[1])
            self.taken[slot] = True
            self.free -= 1
            slots[probed] = slot
            probed += 1
        overflowing = len(fresh) - probed
        suffixes[probed:] = self.overflow + 2 + np.arange(overflowing)  # the first input past the pool gets " 2"
        if overflowing:  # "name N" equal to the input itself: the next entry's name with the same N instead
            numbered = pc.binary_join_element_wise(
                self.pool.take(pa.array(slots[probed:])), pc.cast(pa.array(suffixes[probed:]), pa.string()), " "
            )
            same = pc.equal(numbered, fresh_texts.slice(probed)).fill_null(False).to_numpy(zero_copy_only=False)
            slots[probed:][same] = (slots[probed:][same] + 1) % size
        self.overflow += overflowing
        words = np.concatenate([self.words, fresh])
        order = np.argsort(words, kind="stable")
        self.words = words[order]
        self.slots = np.concatenate([self.slots, slots])[order]
        self.suffixes = np.concatenate([self.suffixes, suffixes])[order]


_UNIQUE_ASSIGNMENTS: dict[tuple, UniqueAssignment] = {}
_UNIQUE_LOCK = threading.Lock()


def _unique_assignment(key_id: bytes, kind: str, locale: str, pool: pa.Array) -> UniqueAssignment:
    with _UNIQUE_LOCK:
        identity = (key_id, kind, locale, len(pool))
        if identity not in _UNIQUE_ASSIGNMENTS:
            _UNIQUE_ASSIGNMENTS[identity] = UniqueAssignment(pool)
        return _UNIQUE_ASSIGNMENTS[identity]


class PseudonymizeMasker(ColumnMasker):
    """pool[HMAC(key_kind, value) mod len(pool)]: a realistic, deterministic stand-in for each value.

    With `unique: true`, distinct inputs get distinct outputs: the pool is de-duplicated and an input whose first
    choice is taken gets the next free pool entry (linear probing, in order of first appearance in the process);
    when the pool runs out, the first choice gets a numeric suffix. Which of two colliding inputs moves therefore
    depends on which is seen first, so unique pseudonyms are reproducible for the same inputs in the same order.
    """

    def __init__(self, rule: PseudonymizeRule, context: BuildContext) -> None:
        seed = pool_seed(context.secret, rule.kind, rule.locale)
        key = derived_key(context.secret, f"pseudonymize\0{rule.kind}\0{rule.locale}")
        self.hmac = Hmac(key)
        self.identity_column = rule.row_key
        if rule.unique:
            pool = distinct_faker_pool(rule.kind, rule.locale, seed, rule.pool_size, context.where).cast(pa.string())
            self.assignment = _unique_assignment(derived_key(key, "unique"), rule.kind, rule.locale, pool)
            self.pool = pool
        else:
            self.assignment = None
            pool = faker_pool(rule.kind, rule.locale, seed, rule.pool_size, context.where)
            self.pool = fit_pool_to(pool, context.column_type)
        self.output_type = self.pool.type

    def _pick(self, distinct: pa.Array) -> pa.Array:
        words = digest_words(self.hmac.digests(distinct))
        if self.assignment is None:
            picks = (words % np.uint64(len(self.pool))).astype(np.int64)
            return self.pool.take(pa.array(picks_unlike_originals(self.pool, picks, distinct)))
        return self.assignment.assign(words, distinct)

    def apply(self, values: pa.Array) -> pa.Array:
        return per_distinct(values, self._pick)

    def apply_rows(self, values: pa.Array, identity: pa.Array) -> pa.Array:
        """Picks by the `row_key` column's value (the row's own where that is null), never the row's own value: two
        columns of one person (login and email) get consistent pseudonyms."""
        own = as_text(values)
        valid = pc.is_valid(own)
        keys = pc.coalesce(as_text(identity), own).filter(valid)
        own = own.filter(valid)
        words = per_distinct(keys, lambda distinct: pa.array(digest_words(self.hmac.digests(distinct)))).to_numpy()
        if self.assignment is None:
            picks = picks_unlike_originals(self.pool, (words % np.uint64(len(self.pool))).astype(np.int64), own)
            outputs = self.pool.take(pa.array(picks))
        else:
            outputs = self.assignment.assign(words, own)
        positions = pc.subtract(pc.cumulative_sum(pc.cast(valid, pa.int64())), 1)
        return outputs.take(pc.if_else(valid, positions, pa.scalar(None, pa.int64())))


class HashMasker(ColumnMasker):
    """anon.hmac-like: lower-case hex HMAC (SHA-256 by default) of the value's text with the secret, optionally cut
    to its first `length` hex digits."""

    output_type = pa.string()

    def __init__(self, rule: HashRule, context: BuildContext) -> None:
        self.hmac = Hmac(context.secret, rule.algorithm)
        self.length = rule.length

    def _hex(self, distinct: pa.Array) -> pa.Array:
        digests = self.hmac.digests(distinct)
        if self.length is None:
            return hex_strings(digests)
        return pc.utf8_slice_codeunits(hex_strings(digests[:, : (self.length + 1) // 2]), 0, self.length)

    def apply(self, values: pa.Array) -> pa.Array:
        return per_distinct(values, self._hex)


def build_keyed_masker(rule, context: BuildContext) -> ColumnMasker:
    if isinstance(rule, PseudonymizeRule):
        return PseudonymizeMasker(rule, context)
    return HashMasker(rule, context)
