"""Laplace and Gaussian noise for real-valued queries without floating-point attacks: snapping to a power-of-two grid.

The query's values are rounded to multiples of g = 2^k (exact in binary floating point), exact discrete noise is
added in units of g, and the result is scaled back. Rounding moves each coordinate by at most g/2, so the sensitivity
actually paid for is the given one plus g per coordinate (L1) or sqrt(dim) * g (L2). k is chosen so the noise is about
2^10 grid steps wide per coordinate's rounding: fine enough to be invisible, coarse enough for the int64 samplers.
"""

import math
from dataclasses import dataclass
from fractions import Fraction

import numpy as np
from janedoe.dp_noise.conversions import rho_of_gaussian
from janedoe.dp_noise.rationals import positive_fraction
from janedoe.dp_noise.samplers import discrete_gaussian, discrete_laplace, exact_gaussian_sigma, exact_laplace_scale
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


def _grid_exponent(scale: Fraction, integer_valued: bool, rounding_weight: float = 1.0) -> int:
    """k for the grid 2^k: the rounding penalty (rounding_weight * 2^k) stays below scale / 2^10."""
    k = math.floor(math.log2(float(scale) / (_STEPS_PER_SCALE * rounding_weight)))
    return max(k, 0) if integer_valued else k


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


def laplace_parameters(*, sensitivity, epsilon, size: int, integer_valued: bool) -> tuple[int, Fraction]:
    """(k, scale in units of 2^k) for an epsilon-DP release of `size` values with this L1 sensitivity."""
    eps = positive_fraction(epsilon, "epsilon")
    delta_l1 = positive_fraction(sensitivity, "sensitivity")
    k = _grid_exponent(delta_l1 / eps, integer_valued, size)
    paid = delta_l1 if integer_valued and k == 0 else delta_l1 + size * Fraction(2) ** k
    return k, exact_laplace_scale(paid / eps / Fraction(2) ** k)


def gaussian_parameters(*, sensitivity, rho, size: int, integer_valued: bool) -> tuple[int, Fraction]:
    """(k, sigma in units of 2^k) for a rho-zCDP release of `size` values with this L2 sensitivity."""
    if isinstance(rho, bool) or not isinstance(rho, (int, float)) or not math.isfinite(rho) or rho <= 0:
        raise JaneDoeInputError("rho must be positive", where="rho")
    delta_l2 = float(positive_fraction(sensitivity, "sensitivity"))
    sigma = gaussian_sigma_for(delta_l2, rho)
    k = _grid_exponent(Fraction(sigma), integer_valued, math.sqrt(size))
    k = max(k, math.ceil(math.log2(sigma / 2**12)))  # the exact sampler's range; long vectors pay more rounding
    while True:
        paid = delta_l2 if integer_valued and k == 0 else delta_l2 + math.sqrt(size) * 2.0**k
        if gaussian_sigma_for(paid, rho) / 2.0**k <= 2**12:
            break
        k += 1
    sigma_units = exact_gaussian_sigma(Fraction(gaussian_sigma_for(paid, rho) / 2.0**k))
    if rho_of_gaussian(paid, float(sigma_units) * 2.0**k) > rho * (1 + 1e-9):
        raise AssertionError("the rounded sigma must never cost more than rho")
    return k, sigma_units


def laplace_mechanism(values, *, sensitivity, epsilon, integer_valued=False, rng=None) -> NoisyRelease:
    """epsilon-DP release of values with the given L1 sensitivity (discrete Laplace on a grid)."""
    values = np.atleast_1d(np.asarray(values))
    k, scale_units = laplace_parameters(
        sensitivity=sensitivity, epsilon=epsilon, size=values.size, integer_valued=integer_valued
    )
    noise = discrete_laplace(scale_units, values.size, rng)
    noisy = _unsnap(_snap(values, k, integer_valued) + noise, k, integer_valued)
    return NoisyRelease(
        noisy, "laplace", float(scale_units) * 2.0**k, 2.0**k, laplace_half_width(scale_units) * 2.0**k, scale_units
    )


def gaussian_sigma_for(sensitivity, rho) -> float:
    return float(sensitivity) / math.sqrt(2 * float(rho))


def gaussian_mechanism(values, *, sensitivity, rho, integer_valued=False, rng=None) -> NoisyRelease:
    """rho-zCDP release of values with the given L2 sensitivity (discrete Gaussian on a grid, CKS20 Theorem 14)."""
    values = np.atleast_1d(np.asarray(values))
    k, sigma_units = gaussian_parameters(
        sensitivity=sensitivity, rho=rho, size=values.size, integer_valued=integer_valued
    )
    noise = discrete_gaussian(sigma_units, values.size, rng)
    noisy = _unsnap(_snap(values, k, integer_valued) + noise, k, integer_valued)
    return NoisyRelease(
        noisy, "gaussian", float(sigma_units) * 2.0**k, 2.0**k, gaussian_half_width(sigma_units) * 2.0**k, sigma_units
    )
