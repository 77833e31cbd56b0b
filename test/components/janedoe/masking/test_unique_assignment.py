"""The vectorized unique-pseudonym assignment gives exactly what one-input-at-a-time linear probing gives."""

import numpy as np
import pyarrow as pa
from janedoe.masking.keyed_rules import UniqueAssignment


class ProbingReference:
    """The rule, one input at a time: first free pool entry from the HMAC position on, then numbered first choices."""

    def __init__(self, pool: list[str]) -> None:
        self.pool, self.taken, self.assigned, self.overflow = pool, [False] * len(pool), {}, 0

    def assign(self, words) -> list[str]:
        out = []
        for word in (int(w) for w in words):
            if word not in self.assigned:
                start = word % len(self.pool)
                free = [i for i in range(len(self.pool)) if not self.taken[(start + i) % len(self.pool)]]
                if free:
                    slot = (start + free[0]) % len(self.pool)
                    self.taken[slot] = True
                    self.assigned[word] = self.pool[slot]
                else:
                    self.overflow += 1
                    self.assigned[word] = f"{self.pool[start]} {self.overflow + 1}"
            out.append(self.assigned[word])
        return out


def outside_texts(words) -> pa.Array:
    """Input texts that are in no pool (the reference does not model the own-value rule)."""
    return pa.array([f"input {int(word)}" for word in words])


def test_an_input_never_gets_its_own_value_even_when_its_first_choice_or_its_number_is_itself():
    pool = [f"n{i}" for i in range(10)]
    words = np.arange(30, dtype=np.uint64)  # word w first chooses pool[w % 10]
    texts = pa.array([f"n{w % 10}" if w < 10 else f"n{w % 10} {w - 8}" for w in range(30)])
    out = UniqueAssignment(pa.array(pool)).assign(words, texts).to_pylist()
    assert len(set(out)) == len(out)
    assert not any(a == b for a, b in zip(out, texts.to_pylist(), strict=True))


def test_matches_one_at_a_time_probing_across_calls_with_repeats_and_overflow():
    rng = np.random.default_rng(3)
    pool = [f"p{i}@example.org" for i in range(37)]
    fast, slow = UniqueAssignment(pa.array(pool)), ProbingReference(pool)
    seen = rng.integers(0, 2**64 - 1, 60, dtype=np.uint64)
    for size in (1, 5, 20, 0, 50, 200):
        words = np.concatenate([rng.integers(0, 2**64 - 1, size, dtype=np.uint64), rng.choice(seen, 7)])
        rng.shuffle(words)
        assert fast.assign(words, outside_texts(words)).to_pylist() == slow.assign(words)
    assert fast.overflow == slow.overflow > 0


def test_distinct_inputs_get_distinct_outputs():
    words = np.random.default_rng(5).integers(0, 2**64 - 1, 5000, dtype=np.uint64)
    distinct = np.unique(words)
    assignment = UniqueAssignment(pa.array([f"n{i}" for i in range(100)]))
    out = assignment.assign(distinct, outside_texts(distinct)).to_pylist()
    assert len(set(out)) == len(out)
