"""What a first pass over the data contributes to set-dependent rules (unique pseudonyms), mergeable across batches,
files, tables, partitions and processes.

A state holds, per shared assignment (one key, kind, locale and pool: every column masked alike shares it), the
distinct keyed HMAC words of the values seen (8 bytes each, never a value itself), and for row_key columns the
words of the (key, own value) pairs whose pseudonym must avoid the own value. Merging is a set union, so it is
associative and commutative: a distributed engine observes each partition, merges the states on the driver in any
order and broadcasts the result; every task then solves the same assignment.
"""

import threading
from dataclasses import dataclass, field

import numpy as np


def sorted_distinct(words: np.ndarray) -> np.ndarray:
    """The distinct words in order (a sort, which beats np.unique's hashing on 64-bit words)."""
    words = np.sort(np.asarray(words, dtype=np.uint64))
    if len(words) < 2:
        return words
    keep = np.empty(len(words), dtype=bool)
    keep[0] = True
    np.not_equal(words[1:], words[:-1], out=keep[1:])
    return words[keep]


def _union(a: np.ndarray, b: np.ndarray) -> np.ndarray:
    if not len(a):
        return b
    if not len(b):
        return a
    return sorted_distinct(np.concatenate([a, b]))


@dataclass(frozen=True)
class ObservedWords:
    """Sorted distinct uint64 words of the values, and of the (key, own value) pairs of row_key columns."""

    words: np.ndarray = field(default_factory=lambda: np.empty(0, np.uint64))
    pairs: np.ndarray = field(default_factory=lambda: np.empty(0, np.uint64))

    def merge(self, other: "ObservedWords") -> "ObservedWords":
        return ObservedWords(_union(self.words, other.words), _union(self.pairs, other.pairs))


class PrepassState:
    """The set of values a table masker's set-dependent rules need, by shared-assignment id; picklable and small."""

    def __init__(self, parts: dict[str, ObservedWords] | None = None) -> None:
        self.parts = dict(parts or {})
        self._solved: dict = {}
        self._lock = threading.Lock()

    def merge(self, other: "PrepassState") -> "PrepassState":
        parts = dict(self.parts)
        for name, observed in other.parts.items():
            parts[name] = parts[name].merge(observed) if name in parts else observed
        return PrepassState(parts)

    @property
    def nbytes(self) -> int:
        return sum(part.words.nbytes + part.pairs.nbytes for part in self.parts.values())

    def solved(self, name: str, solve):
        """`solve(observed)` for one part, computed once per state (every table sharing the part reuses it)."""
        with self._lock:
            if name not in self._solved:
                self._solved[name] = solve(self.parts.get(name, ObservedWords()))
            return self._solved[name]

    def __getstate__(self) -> dict:
        return {"parts": self.parts}

    def __setstate__(self, state: dict) -> None:
        PrepassState.__init__(self, state["parts"])

    def __repr__(self) -> str:
        sizes = ", ".join(f"{len(part.words):,} values" for part in self.parts.values())
        return f"PrepassState({len(self.parts)} parts: {sizes or 'empty'})"


class PrepassAccumulator:
    """Merges many batches' states in amortized O(n log n): pending states are merged into the total only once they
    hold as many words as it does, so memory stays within about twice the distinct words."""

    def __init__(self) -> None:
        self.total = PrepassState()
        self._pending: list[PrepassState] = []
        self._pending_words = 0

    def add(self, state: PrepassState) -> None:
        self._pending.append(state)
        self._pending_words += sum(len(part.words) + len(part.pairs) for part in state.parts.values())
        if self._pending_words >= max(self._total_words(), 65_536):
            self._flush()

    def _total_words(self) -> int:
        return sum(len(part.words) + len(part.pairs) for part in self.total.parts.values())

    def _flush(self) -> None:
        names = set(self.total.parts).union(*(state.parts for state in self._pending))
        parts = {}
        for name in names:
            pieces = [s.parts[name] for s in [self.total, *self._pending] if name in s.parts]
            parts[name] = ObservedWords(
                sorted_distinct(np.concatenate([p.words for p in pieces])),
                sorted_distinct(np.concatenate([p.pairs for p in pieces])),
            )
        self.total = PrepassState(parts)
        self._pending, self._pending_words = [], 0

    def result(self) -> PrepassState:
        self._flush()
        return self.total
