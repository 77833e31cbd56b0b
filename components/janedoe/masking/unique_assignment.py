"""Which candidate each distinct value gets, from the SET of values alone (never their order, batches or tables).

Every value (its keyed HMAC word) proposes a keyed sequence of candidate slots c_0(v), c_1(v), ...; in each round,
every value still without a slot proposes its next candidate, and each free slot goes to the proposer with the lowest
keyed priority; the others try their next candidate in the next round. A value never takes a text that is its own
(or, with a row_key, the own text of a row that value keys), nor a text already given out. The first 8 candidates
lie in the pool itself, later ones in derived tiers of doubling width (unique_pool), so a small set stays inside the
pool and a large one spreads wide enough to settle in a few rounds. Adding or removing one value only moves the
values that would have competed for the same slots, and each round is vectorized over all values still unplaced.
"""

import numpy as np
import pyarrow as pa
from janedoe.errors import JaneDoeInputError
from janedoe.masking.unique_pool import CandidatePool, mix64

POOL_ROUNDS = 8
ROUNDS_PER_WIDER_TIER_RANGE = 2
MAX_TIER_RANGES = 40
_ROUND_SALT = np.uint64(0x9E3779B97F4A7C15)


def pair_words(identity_words: np.ndarray, own_words: np.ndarray) -> np.ndarray:
    """One word per (identity, own text) pair, for row_key columns whose own text differs from their key's."""
    with np.errstate(over="ignore"):
        return mix64(np.asarray(identity_words, np.uint64) ^ mix64(np.asarray(own_words, np.uint64) + _ROUND_SALT))


def _round_candidates(words: np.ndarray, round_index: int, size: int) -> tuple[np.ndarray, np.ndarray]:
    """Each value's candidate (tier, entry) in this round: in the pool for the first rounds, then in tiers
    [2^(k-1), 2^k) for the k-th range of rounds after them."""
    with np.errstate(over="ignore"):
        hashed = mix64(words ^ (np.uint64(round_index + 1) * _ROUND_SALT))
    entries = (hashed % np.uint64(size)).astype(np.int64)
    if round_index < POOL_ROUNDS:
        return np.zeros(len(words), dtype=np.int64), entries
    width_index = (round_index - POOL_ROUNDS) // ROUNDS_PER_WIDER_TIER_RANGE
    low = 1 << width_index
    return low + (mix64(hashed) % np.uint64(low)).astype(np.int64), entries


def assign_texts(words: np.ndarray, pairs: np.ndarray, candidates: CandidatePool, where: str) -> pa.Array:
    """The pseudonym of each of `words` (sorted, distinct): distinct texts, none of them a value's own.

    Each round, every free slot proposed goes to its bidder of lowest keyed priority; that bidder keeps it unless the
    slot's text is its own or was already given out (two slots can derive the same text), in which case the slot
    stays free this round. Only the slots' winners have their texts derived and keyed, so a round costs one HMAC
    per slot given, not per proposal.
    """
    words = np.asarray(words, dtype=np.uint64)
    unplaced = np.arange(len(words))
    taken_slots = _TakenSlots(candidates.size)
    taken_texts = np.empty(0, dtype=np.uint64)  # sorted HMAC words of the texts given out
    placed: list[np.ndarray] = []
    texts: list[pa.Array] = []
    for round_index in range(POOL_ROUNDS + ROUNDS_PER_WIDER_TIER_RANGE * MAX_TIER_RANGES):
        if not len(unplaced):
            break
        proposers = words[unplaced]
        tiers, entries = _round_candidates(proposers, round_index, candidates.size)
        slots = taken_slots.enter(round_index, tiers, entries)
        bidders = np.flatnonzero(~taken_slots.contains(slots))
        with np.errstate(over="ignore"):
            priority = mix64(proposers[bidders] + np.uint64(round_index) * _ROUND_SALT)
        winners = bidders[taken_slots.lowest(slots[bidders], priority)]
        proposed, text_words = candidates.candidates(tiers[winners], entries[winners])
        keeps = (text_words != proposers[winners]) & ~_contains(taken_texts, text_words)
        if len(pairs):
            keeps &= ~_contains(pairs, pair_words(proposers[winners], text_words))
        distinct_text = np.zeros(len(winners), dtype=bool)
        distinct_text[np.unique(text_words, return_index=True)[1]] = True  # one text, two slots: one keeps it
        keeps &= distinct_text
        winners, text_words = winners[keeps], text_words[keeps]
        placed.append(unplaced[winners])
        texts.append(proposed.filter(pa.array(keeps)))
        taken_slots.add(slots[winners])
        taken_texts = _insert_sorted(taken_texts, text_words)
        still = np.ones(len(unplaced), dtype=bool)
        still[winners] = False
        unplaced = unplaced[still]
    if len(unplaced):
        raise JaneDoeInputError(
            f"this kind cannot give {len(words):,} distinct pseudonyms (its values and their derivations run out):"
            " use a kind with more distinct values or drop unique",
            where=where,
        )
    if not placed:
        return pa.array([], pa.string())
    order = np.argsort(np.concatenate(placed))
    return pa.concat_arrays(texts).take(pa.array(order))


class _TakenSlots:
    """The slots given out in the current range of tiers (ranges never share a slot): a bitmap while the range is
    small enough, else a sorted array."""

    BITMAP_MAX = 1 << 22  # slots: 4 MB of flags, 32 MB of priorities while a round runs

    def __init__(self, pool_size: int) -> None:
        self.pool_size = pool_size
        self.range_index = -1
        self.low_tier = 0
        self.bitmap: np.ndarray | None = None
        self.sorted = np.empty(0, dtype=np.int64)

    def enter(self, round_index: int, tiers: np.ndarray, entries: np.ndarray) -> np.ndarray:
        """The slots of this round's candidates, as positions within their range."""
        range_index = -1 if round_index < POOL_ROUNDS else (round_index - POOL_ROUNDS) // ROUNDS_PER_WIDER_TIER_RANGE
        if range_index != self.range_index:
            self.range_index = range_index
            self.low_tier = 0 if range_index < 0 else 1 << range_index
            width = self.pool_size * (1 if range_index < 0 else self.low_tier)
            self.bitmap = np.zeros(width, dtype=bool) if width <= self.BITMAP_MAX else None
            self.sorted = np.empty(0, dtype=np.int64)
        return (tiers - self.low_tier) * self.pool_size + entries

    def contains(self, slots: np.ndarray) -> np.ndarray:
        return self.bitmap[slots] if self.bitmap is not None else _contains(self.sorted, slots)

    def lowest(self, slots: np.ndarray, priority: np.ndarray) -> np.ndarray:
        """Where each slot's lowest priority is (priorities are distinct: a bijection of distinct words)."""
        if self.bitmap is not None:
            best = np.full(len(self.bitmap), np.iinfo(np.uint64).max, dtype=np.uint64)
            np.minimum.at(best, slots, priority)
            return np.flatnonzero(best[slots] == priority)
        order = np.lexsort((priority, slots))
        ranked = slots[order]
        first = np.ones(len(ranked), dtype=bool)
        first[1:] = ranked[1:] != ranked[:-1]
        return np.sort(order[first])

    def add(self, slots: np.ndarray) -> None:
        if self.bitmap is not None:
            self.bitmap[slots] = True
        else:
            self.sorted = _insert_sorted(self.sorted, slots)


def _insert_sorted(sorted_words: np.ndarray, new: np.ndarray) -> np.ndarray:
    """`sorted_words` with `new` (none of them in it yet) inserted in order."""
    new = np.sort(new)
    return np.insert(sorted_words, np.searchsorted(sorted_words, new), new)


def _contains(sorted_words: np.ndarray, words: np.ndarray) -> np.ndarray:
    if not len(sorted_words):
        return np.zeros(len(words), dtype=bool)
    at = np.minimum(np.searchsorted(sorted_words, words), len(sorted_words) - 1)
    return sorted_words[at] == words


class UniqueAssignment:
    """The pseudonym of every value of one set: looked up by HMAC word, in any batch, in any order."""

    def __init__(self, words: np.ndarray, pairs: np.ndarray, candidates: CandidatePool, where: str) -> None:
        self.words = np.asarray(words, dtype=np.uint64)
        self.texts = assign_texts(self.words, pairs, candidates, where)

    def lookup(self, words: np.ndarray) -> pa.Array:
        words = np.asarray(words, dtype=np.uint64)
        at = np.minimum(np.searchsorted(self.words, words), max(len(self.words) - 1, 0))
        if not len(self.words) or not np.array_equal(self.words[at], words):
            raise PrepassMismatchError(
                "a value reached the masker that its prepass did not observe: observe every batch (and every table"
                " sharing the key) before use_prepass"
            )
        return self.texts.take(pa.array(at))


class PrepassMismatchError(RuntimeError):
    """A unique pseudonym was asked for a value outside the prepass's set: the caller's two passes disagree."""
