"""Laplace and Gaussian noise for real-valued queries without floating-point attacks: snapping to a power-of-two grid.

The query's values are rounded to multiples of g = 2^k (exact in binary floating point), exact discrete noise is
added in units of g, and the result is scaled back. Rounding moves each coordinate by at most g/2, so the sensitivity
actually paid for is the given one plus g per coordinate (L1) or sqrt(dim) * g (L2). k is chosen so the noise is about
2^10 grid steps wide per coordinate's rounding: fine enough to be invisible, coarse enough for the int64 samplers.

A release is planned first (NoisePlan: grid, exact scale, sampler tables; every refusal happens here) and drawn
after: a query charges its budget between the two, so nothing that can fail runs after the charge. Exact inputs
(integers on a grid 2^e, from fixed_point) are snapped with integer arithmetic, and rounding is free when the noise
grid is no coarser than theirs.
"""

import math
from dataclasses import dataclass
from fractions import Fraction

import numpy as np
from janedoe.dp_noise.conversions import rho_of_gaussian
from janedoe.dp_noise.rationals import positive_fraction
from janedoe.dp_noise.samplers import discrete_gaussian, discrete_laplace, exact_gaussian_sigma, exact_laplace_scale
from janedoe.dp_noise.tables import gaussian_table, laplace_table
from janedoe.errors import JaneDoeInputError

_STEPS_PER_SCALE = 2**10


@dataclass(frozen=True)
class NoisyRelease:
    """Noisy values plus what is needed to judge them: the noise's scale, grid and 95% half-width."""

    values: np.ndarray
    distribution: str  # "laplace" or "gaussian"
    scale: float  # Laplace scale b or Gaussian sigma, in the values' units
    granularity: float
    half_width_95: float
    scale_units: Fraction  # the same scale in grid steps, exactly

    def half_width(self, level: float) -> float:
        """Half-width of the interval holding the noise with probability >= level."""
        if self.distribution == "laplace":
            return laplace_half_width(self.scale_units, level) * self.granularity
        return gaussian_half_width(self.scale_units, level) * self.granularity

    def describe(self) -> dict:
        return {"distribution": self.distribution, "scale": self.scale, "granularity": self.granularity}


_LARGEST_SCALE_EXPONENT = 960  # noise scales up to 2^960: their tails stay far inside the float range (2^1024)
_MAX_SCALE_RATIO = Fraction(2) ** 40  # noise wider than 2^40 sensitivities drowns any answer; the samplers stop near


def _grid_exponent(scale: Fraction, sensitivity: Fraction, integer_valued: bool, rounding_weight: float = 1.0) -> int:
    """k for the grid 2^k: the rounding penalty (rounding_weight * 2^k) stays below scale / 2^10 and sensitivity / 2^10
    (so a small epsilon does not pay a rounding penalty larger than the sensitivity itself)."""
    k = math.floor(math.log2(float(min(scale, sensitivity)) / (_STEPS_PER_SCALE * rounding_weight)))
    return max(k, 0) if integer_valued else k


def _rounding_is_free(k: int, integer_valued: bool, data_exponent: int | None) -> bool:
    """Values already on a grid at least as fine as 2^k (integers: 2^0) are not moved by snapping."""
    if data_exponent is None:
        return integer_valued and k == 0
    return k <= data_exponent


def _check_ratio(scale: Fraction, sensitivity: Fraction) -> None:
    if scale > sensitivity * _MAX_SCALE_RATIO:
        raise JaneDoeInputError(
            "epsilon is too small: the noise would be over 2^40 times the sensitivity (the samplers cannot draw it, "
            "and it would drown any answer)",
            where="epsilon",
        )


def _snap(values: np.ndarray, k: int, integer_valued: bool) -> np.ndarray:
    """Values in units of 2^k as int64 (exact: scaling by a power of two, then rounding)."""
    values = np.asarray(values, dtype=np.int64 if integer_valued else np.float64)
    if integer_valued and k == 0:
        return values
    scaled = np.rint(np.ldexp(values.astype(np.float64), -k))
    if scaled.size and np.abs(scaled).max() >= 2**62:
        raise JaneDoeInputError("values are too large for this noise scale", where="bounds")
    return scaled.astype(np.int64)


def _unsnap(units: np.ndarray, k: int, integer_valued: bool) -> np.ndarray:
    if integer_valued:
        return units << k if k else units
    return np.ldexp(units.astype(np.float64), k)


def laplace_half_width(scale_units: Fraction, level: float = 0.95) -> int:
    """Smallest m with P(|Z| <= m) >= level for discrete Laplace of this scale (in grid units)."""
    p = math.exp(-1 / float(scale_units))
    # P(|Z| > m) = 2 p^(m+1) / (1 + p)
    m = math.ceil(math.log((1 - level) * (1 + p) / 2) / math.log(p) - 1) if p > 0 else 0
    return max(m, 0)


def gaussian_half_width(sigma_units: Fraction, level: float = 0.95) -> int:
    """Smallest m with P(|Z| <= m) >= level for the discrete Gaussian of this sigma (in grid units), from its pmf."""
    sigma = float(sigma_units)
    support = np.arange(0, int(12 * sigma) + 12, dtype=np.float64)
    weights = np.exp(-(support**2) / (2 * sigma * sigma))
    mass = np.concatenate([[weights[0]], 2 * weights[1:]])
    cumulative = np.cumsum(mass) / mass.sum()
    return int(np.searchsorted(cumulative, level))


def laplace_parameters(
    *, sensitivity, epsilon, size: int, integer_valued: bool, touched: int | None = None, data_exponent=None
) -> tuple[int, Fraction]:
    """(k, scale in units of 2^k) for an epsilon-DP release of `size` values with this L1 sensitivity.

    touched: how many coordinates one person can move (default all `size`): only their rounding is paid for.
    data_exponent: the values are exact multiples of 2^data_exponent (None: arbitrary floats).
    """
    eps = positive_fraction(epsilon, "epsilon")
    delta_l1 = positive_fraction(sensitivity, "sensitivity")
    _check_ratio(delta_l1 / eps, delta_l1)
    weight = size if touched is None else min(touched, size)
    k = _grid_exponent(delta_l1 / eps, delta_l1, integer_valued, weight)
    free = _rounding_is_free(k, integer_valued, data_exponent)
    paid = delta_l1 if free else delta_l1 + weight * Fraction(2) ** k
    return k, exact_laplace_scale(paid / eps / Fraction(2) ** k)


def gaussian_parameters(
    *, sensitivity, rho, size: int, integer_valued: bool, touched: int | None = None, data_exponent=None
) -> tuple[int, Fraction]:
    """(k, sigma in units of 2^k) for a rho-zCDP release of `size` values with this L2 sensitivity (see
    laplace_parameters for touched and data_exponent)."""
    if isinstance(rho, bool) or not isinstance(rho, (int, float)) or not math.isfinite(rho) or rho <= 0:
        raise JaneDoeInputError("rho must be positive (delta too small for this epsilon?)", where="rho")
    delta_l2 = float(positive_fraction(sensitivity, "sensitivity"))
    weight = math.sqrt(size if touched is None else min(touched, size))
    sigma = gaussian_sigma_for(delta_l2, rho)
    # the exact sampler needs sigma <= 2^12 grid steps, and each step costs weight * 2^k of sensitivity: with
    # sigma_units = (delta_l2 / 2^k + weight) / sqrt(2 rho), no grid fits when weight / sqrt(2 rho) reaches 2^12
    if not math.isfinite(sigma) or weight / math.sqrt(2 * rho) >= 2**12 * (1 - 2**-20):
        raise JaneDoeInputError(
            "epsilon is too small for Gaussian noise at this delta (the exact sampler cannot draw it); "
            "use a larger epsilon or delta = 0",
            where="epsilon",
        )
    k = _grid_exponent(Fraction(sigma), Fraction(delta_l2), integer_valued, weight)
    k = max(k, math.ceil(math.log2(sigma / 2**12)))  # the exact sampler's range; long vectors pay more rounding
    while True:
        free = _rounding_is_free(k, integer_valued, data_exponent)
        paid = delta_l2 if free else delta_l2 + weight * 2.0**k
        if gaussian_sigma_for(paid, rho) / 2.0**k <= 2**12:
            break
        k += 1
    sigma_units = exact_gaussian_sigma(Fraction(gaussian_sigma_for(paid, rho) / 2.0**k))
    if rho_of_gaussian(paid, float(sigma_units) * 2.0**k) > rho * (1 + 1e-9):
        raise AssertionError("the rounded sigma must never cost more than rho")
    return k, sigma_units


@dataclass(frozen=True)
class NoisePlan:
    """A release's grid 2^k and exact noise scale (in grid steps), fixed before the budget is charged."""

    distribution: str  # "laplace" or "gaussian"
    k: int
    scale_units: Fraction
    integer_valued: bool

    def __post_init__(self) -> None:
        if self.k + math.log2(float(self.scale_units)) > _LARGEST_SCALE_EXPONENT:
            raise JaneDoeInputError(
                "the noise would leave the floating-point range: bounds too wide for this epsilon", where="bounds"
            )

    @classmethod
    def laplace(cls, *, sensitivity, epsilon, size, integer_valued, touched=None, data_exponent=None) -> "NoisePlan":
        k, scale = laplace_parameters(sensitivity=sensitivity, epsilon=epsilon, size=size,
                                      integer_valued=integer_valued, touched=touched, data_exponent=data_exponent)
        laplace_table(scale)  # built (and cached) now: drawing later only looks it up
        return cls("laplace", k, scale, integer_valued)

    @classmethod
    def gaussian(cls, *, sensitivity, rho, size, integer_valued, touched=None, data_exponent=None) -> "NoisePlan":
        k, sigma = gaussian_parameters(sensitivity=sensitivity, rho=rho, size=size, integer_valued=integer_valued,
                                       touched=touched, data_exponent=data_exponent)
        gaussian_table(sigma)
        return cls("gaussian", k, sigma, integer_valued)

    def _noise(self, size: int, rng) -> np.ndarray:
        if self.distribution == "laplace":
            return discrete_laplace(self.scale_units, size, rng)
        return discrete_gaussian(self.scale_units, size, rng)

    def _release(self, noisy: np.ndarray) -> NoisyRelease:
        granularity = 2.0**self.k
        if self.distribution == "laplace":
            half = laplace_half_width(self.scale_units) * granularity
        else:
            half = gaussian_half_width(self.scale_units) * granularity
        return NoisyRelease(
            noisy, self.distribution, float(self.scale_units) * granularity, granularity, half, self.scale_units
        )

    def draw(self, values, rng=None) -> NoisyRelease:
        """Noisy floats (or integers when integer_valued): values snapped to the grid in floating point."""
        values = np.atleast_1d(np.asarray(values))
        snapped = _snap(values, self.k, self.integer_valued)
        return self._release(_unsnap(snapped + self._noise(values.size, rng), self.k, self.integer_valued))

    def draw_exact(self, units, exponent: int, rng=None) -> NoisyRelease:
        """Noisy values of the exact numbers units * 2^exponent (int64 or Python ints): integer arithmetic only."""
        exact = np.array([int(u) for u in np.atleast_1d(units).tolist()], dtype=object)
        shift = self.k - exponent
        if shift <= 0:
            snapped = exact * (1 << -shift)
        else:  # round half up: monotone, so neighbours' snapped values differ by at most the rounding paid for
            snapped = (exact + (1 << (shift - 1))) >> shift
        noisy = snapped + self._noise(exact.size, rng).astype(object)
        if self.integer_valued:  # k >= 0
            whole = noisy * (1 << self.k)
            if all(-(2**63) < v < 2**63 for v in whole.tolist()):
                return self._release(whole.astype(np.int64))
            return self._release(whole.astype(np.float64))
        return self._release(np.array([_as_float(v, self.k) for v in noisy.tolist()], dtype=np.float64))


def _as_float(units: int, k: int) -> float:
    """units * 2^k as a float, saturating at +-inf (post-processing; the plan keeps the noise far inside the range)."""
    try:
        return math.ldexp(float(units), k)
    except OverflowError:
        return math.copysign(math.inf, units)


def laplace_mechanism(values, *, sensitivity, epsilon, integer_valued=False, rng=None) -> NoisyRelease:
    """epsilon-DP release of values with the given L1 sensitivity (discrete Laplace on a grid)."""
    values = np.atleast_1d(np.asarray(values))
    plan = NoisePlan.laplace(sensitivity=sensitivity, epsilon=epsilon, size=values.size, integer_valued=integer_valued)
    return plan.draw(values, rng)


def gaussian_sigma_for(sensitivity, rho) -> float:
    return float(sensitivity) / math.sqrt(2 * float(rho))


def gaussian_mechanism(values, *, sensitivity, rho, integer_valued=False, rng=None) -> NoisyRelease:
    """rho-zCDP release of values with the given L2 sensitivity (discrete Gaussian on a grid, CKS20 Theorem 14)."""
    values = np.atleast_1d(np.asarray(values))
    plan = NoisePlan.gaussian(sensitivity=sensitivity, rho=rho, size=values.size, integer_valued=integer_valued)
    return plan.draw(values, rng)
