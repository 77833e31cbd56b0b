"""Exact inverse-CDF sampling of |noise| from one 62-bit uniform word per draw, thresholds refined only on a tie.

|X| >= m  <=>  Y < S(m) for Y uniform in [0, 1) and S the survival function of |X|. The table holds
T_m = floor(S(m) 2^62); a word W < T_m proves Y < S(m) and W > T_m proves Y >= S(m), whatever the later bits of Y.
Only a word equal to some T_m, or past the end of the table (together probability about 2^-40), goes to a scalar
resolver that draws further bits of Y and recomputes S(m) in decimal to as many digits as the comparison needs. So
the law is exactly S, not S rounded to 2^-62, and no floating point decides an outcome.
"""

import functools
from decimal import Decimal, localcontext
from fractions import Fraction

import numpy as np

WORD_BITS = 62
_TAIL = Fraction(1, 1 << 40)  # the table runs until S(m) drops below this
MAX_ENTRIES = 1 << 16
_GUIDE_BITS = 16
_BUCKET_SHIFT = WORD_BITS - _GUIDE_BITS


def _laplace_survival(scale: Fraction, m: int, digits: int) -> Decimal:
    """P(|X| >= m) = 2 p^m / (1 + p) for m >= 1, p = exp(-1/scale), to `digits` significant digits (+ guard)."""
    if m == 0:
        return Decimal(1)
    with localcontext() as context:
        context.prec = digits + 20
        p = (Decimal(-scale.denominator) / Decimal(scale.numerator)).exp()
        return 2 * (Decimal(-m * scale.denominator) / Decimal(scale.numerator)).exp() / (1 + p)


def _gaussian_terms(sigma: Fraction, start: int):
    """exp(-k^2 / (2 sigma^2)) for k = start, start + 1, ... at the context's precision."""
    two_sigma_squared = Decimal(2 * sigma.numerator**2) / Decimal(sigma.denominator**2)
    k = start
    while True:
        yield (Decimal(-k * k) / two_sigma_squared).exp(), k
        k += 1


def _gaussian_sum_from(sigma: Fraction, start: int, digits: int) -> Decimal:
    """sum_{k >= start} exp(-k^2 / (2 sigma^2)), truncated where the rest is below 10^-(digits + 10) of the sum."""
    total = Decimal(0)
    limit = Decimal(10) ** -(digits + 10)
    for term, k in _gaussian_terms(sigma, start):
        total += term
        # terms fall at least geometrically past k >= sigma^2 / ... : bound the rest by term / (1 - ratio)
        ratio = (Decimal(-(2 * k + 1) * sigma.denominator**2) / Decimal(2 * sigma.numerator**2)).exp()
        if k > 0 and term / (1 - ratio) < limit * total:
            return total
    raise AssertionError("unreachable")


def _gaussian_survival(sigma: Fraction, m: int, digits: int) -> Decimal:
    """P(|X| >= m) for the discrete Gaussian: 2 sum_{k >= m} g(k) / (1 + 2 sum_{k >= 1} g(k))."""
    if m == 0:
        return Decimal(1)
    with localcontext() as context:
        context.prec = digits + 30
        return 2 * _gaussian_sum_from(sigma, m, digits) / (1 + 2 * _gaussian_sum_from(sigma, 1, digits))


class SurvivalTable:
    """Samples |X| for one law; `survival(m, digits)` gives S(m) with relative error below 10^-digits."""

    def __init__(self, survival, thresholds: list[int]) -> None:
        self.survival = survival
        self.thresholds = np.array(thresholds + [-1], dtype=np.int64)  # T_1..T_K, then a sentinel no word equals
        self.ascending = np.array(thresholds[::-1], dtype=np.int64)
        self.size = len(thresholds)
        # Guide table: the words sharing their top GUIDE_BITS bits form a bucket; where no threshold falls inside a
        # bucket, every word in it has the same count and cannot tie, so one lookup replaces the binary search.
        lows = np.arange(1 << _GUIDE_BITS, dtype=np.int64) << _BUCKET_SHIFT
        highs = lows + ((1 << _BUCKET_SHIFT) - 1)
        count_high = self._count(highs)
        count_before_low = self._count(lows - 1)
        self.guide = np.where(count_before_low == count_high, count_high, -1).astype(np.int32)

    def _count(self, words: np.ndarray) -> np.ndarray:
        return self.size - np.searchsorted(self.ascending, words, side="right")  # #{m <= K: T_m > W}

    def magnitudes(self, words: np.ndarray, source) -> np.ndarray:
        """|X| for each uniform word in [0, 2^62)."""
        count = self.guide[words >> _BUCKET_SHIFT].astype(np.int64)
        searched = np.flatnonzero(count < 0)  # buckets holding a threshold: a binary search and a tie check
        if searched.size:
            found = self._count(words[searched])
            count[searched] = found
            ties = searched[self.thresholds[found] == words[searched]]
        else:
            ties = searched
        undecided = np.union1d(ties, np.flatnonzero(count == self.size))
        for i in undecided:  # probability about 2^-40 each
            count[i] = self._resolve(int(words[i]), int(count[i]), source)
        return count

    def _resolve(self, word: int, known: int, source) -> int:
        """The largest m with Y < S(m), knowing it is >= known, drawing more bits of Y as needed."""
        z, bits, m = word, WORD_BITS, known
        while True:
            while True:  # is Y < S(m + 1)?  Y lies in [z, z + 1) / 2^bits
                digits = bits * 3 // 10 + 10
                s = self.survival(m + 1, digits)
                with localcontext() as context:
                    context.prec = digits + 30
                    error = 2 * s * Decimal(10) ** -digits
                    scaled_low, scaled_high = Decimal(z) / Decimal(2) ** bits, Decimal(z + 1) / Decimal(2) ** bits
                    if scaled_high <= s - error:
                        below = True
                        break
                    if scaled_low >= s + error:
                        below = False
                        break
                z = (z << WORD_BITS) | int(source.integers_below(1 << WORD_BITS, 1)[0])
                bits += WORD_BITS
            if not below:
                return m
            m += 1


def _floor_thresholds(survival, limit: int) -> list[int] | None:
    """floor(S(m) 2^62) for m = 1.. while S(m) >= 2^-40; None when the table would pass `limit` entries."""
    thresholds: list[int] = []
    digits = 40
    scale = Decimal(2) ** WORD_BITS
    tail = Decimal(_TAIL.numerator) / Decimal(_TAIL.denominator)
    m = 1
    while True:
        s = survival(m)
        if s < tail:
            return thresholds
        if len(thresholds) >= limit:
            return None
        with localcontext() as context:
            context.prec = digits + 30
            low, high = (s * (1 - Decimal(10) ** -digits)) * scale, (s * (1 + Decimal(10) ** -digits)) * scale
        floor = int(low)
        if int(high) != floor:  # S(m) 2^62 within 10^-21 of an integer: never seen; refuse rather than guess
            raise ArithmeticError("threshold too close to a cell edge")
        thresholds.append(floor)
        m += 1


@functools.lru_cache(maxsize=64)
def laplace_table(scale: Fraction) -> SurvivalTable | None:
    """The table for discrete Laplace(scale), or None when scale is too large for MAX_ENTRIES rows."""
    if scale > MAX_ENTRIES // 28:
        return None
    with localcontext() as context:
        context.prec = 60
        p = (Decimal(-scale.denominator) / Decimal(scale.numerator)).exp()
        first = 2 * p / (1 + p)
        powers = [first]
        tail = Decimal(_TAIL.numerator) / Decimal(_TAIL.denominator)
        while powers[-1] >= tail and len(powers) <= MAX_ENTRIES:
            powers.append(powers[-1] * p)  # relative error grows by ~10^-59 per step: far below 10^-40
    thresholds = _floor_thresholds(lambda m: powers[m - 1], MAX_ENTRIES)
    if thresholds is None:
        return None
    return SurvivalTable(lambda m, digits: _laplace_survival(scale, m, digits), thresholds)


@functools.lru_cache(maxsize=64)
def gaussian_table(sigma: Fraction) -> SurvivalTable | None:
    """The table for the discrete Gaussian(sigma), or None when sigma is too large for MAX_ENTRIES rows."""
    if sigma > MAX_ENTRIES // 8:
        return None
    with localcontext() as context:
        context.prec = 60
        # g(k) = exp(-k^2 / (2 sigma^2)) by products: g(k + 1) = g(k) c_k, c_k = q^(2k + 1), q = exp(-1/(2 sigma^2));
        # each product adds ~10^-59 relative error, far below the 10^-40 the thresholds need
        q = (Decimal(-(sigma.denominator**2)) / Decimal(2 * sigma.numerator**2)).exp()
        q_squared, step, term = q * q, q, Decimal(1)
        terms = []
        while True:
            term *= step
            step *= q_squared
            terms.append(term)
            if term < Decimal(10) ** -60:  # the rest is below 10^-57 absolute; S(m) >= 2^-40 where it is used
                break
        suffix = [Decimal(0)] * (len(terms) + 1)
        for i in range(len(terms) - 1, -1, -1):
            suffix[i] = suffix[i + 1] + terms[i]
        normaliser = 1 + 2 * suffix[0]
        survival = [2 * suffix[i] / normaliser for i in range(len(terms))]
    thresholds = _floor_thresholds(lambda m: survival[m - 1], MAX_ENTRIES)
    if thresholds is None:
        return None
    return SurvivalTable(lambda m, digits: _gaussian_survival(sigma, m, digits), thresholds)


def signed(magnitudes: np.ndarray, sign_bits: np.ndarray) -> np.ndarray:
    """A uniform sign on each non-zero magnitude (0 stays 0: its probability already counts both sides)."""
    return np.where(sign_bits.astype(bool), -magnitudes, magnitudes)


def sample_symmetric(table: SurvivalTable, size: int, source) -> np.ndarray:
    """X with P(|X| >= m) = S(m) and a uniform sign, from one 63-bit word per draw (62 for |X|, 1 for the sign)."""
    words = source.integers_below(1 << (WORD_BITS + 1), size)
    return signed(table.magnitudes(words >> 1, source), words & 1)
