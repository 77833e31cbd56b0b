"""Rules keyed by the secret: pseudonymize and hash. Both are pure functions of (secret, value), computed once per
distinct value in a batch, so they agree across rows, batches, tables, files and runs (unique pseudonyms: given the
set of values, through a prepass).
"""

import numpy as np
import pyarrow as pa
import pyarrow.compute as pc
from janedoe.masking.column_masker import BuildContext, ColumnMasker
from janedoe.masking.faker_pools import distinct_faker_pool, faker_pool, fit_pool_to, picks_unlike_originals
from janedoe.masking.keyed_digest import Hmac, as_text, derived_key, digest_words, hex_strings, per_distinct
from janedoe.masking.unique_assignment import UniqueAssignment, pair_words
from janedoe.masking.unique_pool import CandidatePool
from janedoe.masking.unique_prepass import ObservedWords, PrepassState, sorted_distinct
from janedoe.policy import HashRule, PseudonymizeRule


def pool_seed(secret: bytes, kind: str, locale: str) -> int:
    """The seed of a pseudonym pool: from the secret, so another key gives other pools as well as other picks."""
    key = derived_key(secret, f"pseudonym pool\0{kind}\0{locale}")
    return int.from_bytes(key[:8], "big")


class PseudonymizeMasker(ColumnMasker):
    """pool[HMAC(key_kind, value) mod len(pool)]: a realistic, deterministic stand-in for each value.

    With `unique: true`, distinct inputs get distinct outputs, chosen from the whole SET of values the column (and
    every column masked alike) holds, never from the order they come in: the masker needs a prepass (`observe` every
    batch, merge, `use_prepass`) and then gives every value the same pseudonym in any batch, table, run or lane. See
    unique_assignment for the rule and unique_pool for the well-formed values past the pool's end.
    """

    def __init__(self, rule: PseudonymizeRule, context: BuildContext) -> None:
        seed = pool_seed(context.keyed_secret(), rule.kind, rule.locale)
        key = derived_key(context.keyed_secret(), f"pseudonymize\0{rule.kind}\0{rule.locale}")
        self.hmac = Hmac(key)
        self.identity_column = rule.row_key
        self.where = context.where
        self.assignment: UniqueAssignment | None = None
        self.prepass_id: str | None
        if rule.unique:
            pool = distinct_faker_pool(rule.kind, rule.locale, seed, rule.pool_size, context.where).cast(pa.string())
            self.candidates = CandidatePool(pool, self.hmac)
            fingerprint = derived_key(key, f"unique\0{rule.pool_size}")[:8].hex()
            self.prepass_id = f"pseudonymize:{rule.kind}:{rule.locale}:{rule.pool_size}:{fingerprint}"
            self.pool = pool
        else:
            self.prepass_id = None
            pool = faker_pool(rule.kind, rule.locale, seed, rule.pool_size, context.where)
            self.pool = fit_pool_to(pool, context.column_type)
        self.output_type = self.pool.type

    def _words(self, texts: pa.Array) -> np.ndarray:
        return per_distinct(texts, lambda distinct: pa.array(digest_words(self.hmac.digests(distinct)))).to_numpy()

    def _set_id(self) -> str:
        assert self.prepass_id is not None, "only a unique pseudonym depends on the set of values"
        return self.prepass_id

    def observe(self, values: pa.Array, identity: pa.Array | None = None) -> PrepassState:
        """This batch's share of the set: distinct words of the values (of the row keys, with a row_key)."""
        own = as_text(values)
        if identity is None:
            distinct = pc.unique(own.drop_null())
            return PrepassState({self._set_id(): ObservedWords(sorted_distinct(self._words(distinct)))})
        valid = pc.is_valid(own)
        keys = pc.coalesce(as_text(identity), own).filter(valid)
        own = own.filter(valid)
        key_words = self._words(keys)
        differs = pc.not_equal(keys, own).to_numpy(zero_copy_only=False)
        pairs = pair_words(key_words[differs], self._words(own.filter(pa.array(differs))))
        return PrepassState({self._set_id(): ObservedWords(sorted_distinct(key_words), sorted_distinct(pairs))})

    def use_prepass(self, state: PrepassState) -> None:
        def solve(observed: ObservedWords) -> UniqueAssignment:
            return UniqueAssignment(observed.words, observed.pairs, self.candidates, self.where)

        self.assignment = state.solved(self._set_id(), solve)

    def _unique(self, words: np.ndarray) -> pa.Array:
        if self.assignment is None:
            raise PrepassMissingError(
                f"{self.where}: unique pseudonyms depend on the whole set of values: run the prepass (observe,"
                " merge, use_prepass) before masking"
            )
        return self.assignment.lookup(words)

    def _pick(self, distinct: pa.Array) -> pa.Array:
        words = digest_words(self.hmac.digests(distinct))
        if self.prepass_id is not None:
            return self._unique(words)
        picks = (words % np.uint64(len(self.pool))).astype(np.int64)
        return self.pool.take(pa.array(picks_unlike_originals(self.pool, picks, distinct)))

    def apply(self, values: pa.Array) -> pa.Array:
        return per_distinct(values, self._pick)

    def apply_rows(self, values: pa.Array, identity: pa.Array) -> pa.Array:
        """Picks by the `row_key` column's value (the row's own where that is null), never the row's own value: two
        columns of one person (login and email) get consistent pseudonyms."""
        own = as_text(values)
        valid = pc.is_valid(own)
        keys = pc.coalesce(as_text(identity), own).filter(valid)
        own = own.filter(valid)
        words = self._words(keys)
        if self.prepass_id is None:
            picks = picks_unlike_originals(self.pool, (words % np.uint64(len(self.pool))).astype(np.int64), own)
            outputs = self.pool.take(pa.array(picks))
        else:
            outputs = self._unique(words)
        positions = pc.subtract(pc.cumulative_sum(pc.cast(valid, pa.int64())), 1)
        return outputs.take(pc.if_else(valid, positions, pa.scalar(None, pa.int64())))


class PrepassMissingError(RuntimeError):
    """A set-dependent rule was asked to mask before its prepass: masking now would depend on row order."""


class HashMasker(ColumnMasker):
    """anon.hmac-like: lower-case hex HMAC (SHA-256 by default) of the value's text with the secret, optionally cut
    to its first `length` hex digits."""

    output_type = pa.string()

    def __init__(self, rule: HashRule, context: BuildContext) -> None:
        self.hmac = Hmac(context.keyed_secret(), rule.algorithm)
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
