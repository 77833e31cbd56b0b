"""The exact inverse-CDF tables: thresholds against an independent float computation, and the rare tie and tail paths
(forced here with scripted words) against the conditional law they must produce."""

import math
from decimal import Decimal, localcontext
from fractions import Fraction

import numpy as np
from janedoe.dp_noise.randomness import GeneratorSource
from janedoe.dp_noise.tables import WORD_BITS, gaussian_table, laplace_table, sample_symmetric
from scipy import stats


class ScriptedSource:
    """Hands out the given first words, then uniform words from a seeded generator (to force rare branches)."""

    def __init__(self, first: np.ndarray, seed: int) -> None:
        self.first = first
        self.rest = GeneratorSource(np.random.default_rng(seed))

    def integers_below(self, high, size):
        if self.first is not None:
            words, self.first = self.first, None
            assert words.size == size
            return words
        return self.rest.integers_below(high, size)


def laplace_survival(scale: float, m: int) -> float:
    p = math.exp(-1 / scale)
    return 2 * p**m / (1 + p)


def test_thresholds_match_the_survival_function():
    table = laplace_table(Fraction(7, 3))
    m = np.arange(1, table.size + 1)
    expected = np.array([laplace_survival(7 / 3, int(k)) for k in m]) * 2.0**WORD_BITS
    assert np.allclose(table.thresholds[:-1], expected, rtol=1e-12, atol=1.0)  # the table floors
    assert laplace_survival(7 / 3, table.size + 1) < 2.0**-40 <= laplace_survival(7 / 3, table.size)
    gauss = gaussian_table(Fraction(3))
    support = np.arange(-200, 201)
    weights = np.exp(-(support**2) / 18.0)
    tail = np.array([weights[np.abs(support) >= k].sum() for k in range(1, gauss.size + 1)]) / weights.sum()
    assert np.allclose(gauss.thresholds[:-1], tail * 2.0**WORD_BITS, rtol=1e-12, atol=1.0)  # the table floors


def test_a_word_on_a_threshold_is_resolved_with_the_right_probability():
    # W = T_1 exactly: |X| is 1 when the later bits of Y fall below S(1) 2^62 - T_1, else 0
    table = laplace_table(Fraction(1))
    draws = 3_000
    threshold = int(table.thresholds[0])
    words = np.full(draws, threshold, dtype=np.int64)
    magnitudes = table.magnitudes(words, ScriptedSource(None, 1))
    assert set(np.unique(magnitudes)) <= {0, 1}
    with localcontext() as context:  # the fractional part of S(1) 2^62 needs more than float precision
        context.prec = 60
        p = Decimal(-1).exp()
        scaled = 2 * p / (1 + p) * Decimal(2) ** WORD_BITS
        probability = float(scaled - int(scaled))
    assert int(scaled) == threshold
    assert stats.binomtest(int(magnitudes.sum()), draws, probability).pvalue > 1e-4


def test_a_word_past_the_table_walks_the_tail_exactly():
    # W = 0: Y < 2^-62, so |X| >= m for every m with S(m) >= 2^-62, and P(|X| >= m) = S(m) 2^62 beyond that
    table = laplace_table(Fraction(1))
    draws = 2_000
    magnitudes = table.magnitudes(np.zeros(draws, dtype=np.int64), ScriptedSource(None, 2))
    certain = max(m for m in range(1, 80) if laplace_survival(1.0, m) * 2.0**WORD_BITS >= 1)
    assert magnitudes.min() >= certain > table.size
    beyond = laplace_survival(1.0, certain + 1) * 2.0**WORD_BITS
    assert stats.binomtest(int((magnitudes > certain).sum()), draws, beyond).pvalue > 1e-4


def test_signs_come_from_the_spare_bit():
    table = laplace_table(Fraction(1))
    # Y = (2^61 - 1) / 2^62, just under 1/2, lies between S(2) = 0.198 and S(1) = 0.538: |X| = 1; the low bit signs it
    words = np.array([(1 << 62) - 2, (1 << 62) - 1, 0b10, 0b11], dtype=np.int64)
    draws = sample_symmetric(table, 4, ScriptedSource(words, 3))
    assert laplace_survival(1.0, 2) < 0.5 < laplace_survival(1.0, 1)
    assert draws[0] == 1 and draws[1] == -1
    assert draws[2] > table.size and draws[3] < -table.size  # Y = 1 / 2^62: deep in the tail, both signs
