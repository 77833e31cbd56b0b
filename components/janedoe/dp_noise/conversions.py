"""Conversions between zero-concentrated DP (rho) and approximate DP (epsilon, delta).

zCDP -> (epsilon, delta) uses Canonne, Kamath and Steinke (2020), Proposition/Corollary 13 (the bound OpenDP uses):
    epsilon = min over alpha > 1 of  alpha*rho + (log(1/delta) + (alpha-1)*log(1-1/alpha) - log(alpha)) / (alpha-1).
Any alpha gives a valid epsilon, so numerical search error only makes the answer looser, never unsafe; the result is
nudged up by a relative 1e-12 to cover float rounding in evaluating the expression.
"""

import math

from janedoe.errors import JaneDoeInputError

_SAFETY = 1e-12


def _check_rho_delta(rho: float, delta: float) -> None:
    if not (isinstance(rho, (int, float)) and math.isfinite(rho) and rho >= 0):
        raise JaneDoeInputError("rho must be a non-negative number", where="rho")
    if not (isinstance(delta, (int, float)) and 0 < delta < 1):
        raise JaneDoeInputError("delta must be in (0, 1) to convert zCDP to (epsilon, delta)", where="delta")


def _epsilon_at(alpha: float, rho: float, log_inv_delta: float) -> float:
    return alpha * rho + (log_inv_delta + (alpha - 1) * math.log1p(-1 / alpha) - math.log(alpha)) / (alpha - 1)


def epsilon_from_rho_delta(rho: float, delta: float) -> float:
    """The smallest epsilon CKS20 certifies for a rho-zCDP mechanism at this delta."""
    _check_rho_delta(rho, delta)
    if rho == 0:
        return 0.0
    log_inv_delta = math.log(1 / delta)
    # epsilon(alpha) is convex in alpha on (1, inf); its minimum is near 1 + sqrt(log(1/delta)/rho).
    low, high = 1.0 + 1e-12, 1.0 + 4 * (1 + math.sqrt(log_inv_delta / rho))
    golden = (math.sqrt(5) - 1) / 2
    a, b = high - golden * (high - low), low + golden * (high - low)
    fa, fb = _epsilon_at(a, rho, log_inv_delta), _epsilon_at(b, rho, log_inv_delta)
    for _ in range(200):
        if fa < fb:
            high, b, fb = b, a, fa
            a = high - golden * (high - low)
            fa = _epsilon_at(a, rho, log_inv_delta)
        else:
            low, a, fa = a, b, fb
            b = low + golden * (high - low)
            fb = _epsilon_at(b, rho, log_inv_delta)
        if high - low < 1e-13 * high:
            break
    best = min(fa, fb)
    # Never report worse than the classic bound rho + 2 sqrt(rho log(1/delta)), which also holds.
    best = min(best, rho + 2 * math.sqrt(rho * log_inv_delta))
    return max(best, 0.0) * (1 + _SAFETY)


def rho_from_epsilon_delta(epsilon: float, delta: float) -> float:
    """The largest rho whose CKS20 conversion stays within (epsilon, delta): a zCDP budget for an (eps, delta) one."""
    if not (isinstance(epsilon, (int, float)) and math.isfinite(epsilon) and epsilon > 0):
        raise JaneDoeInputError("epsilon must be a positive number", where="epsilon")
    _check_rho_delta(0.0, delta)
    low, high = 0.0, epsilon  # epsilon(rho) >= rho, so rho = epsilon is always too much
    for _ in range(200):
        middle = (low + high) / 2
        if epsilon_from_rho_delta(middle, delta) <= epsilon:
            low = middle
        else:
            high = middle
        if high - low <= 1e-15 * high:
            break
    return low


def rho_from_pure_epsilon(epsilon: float) -> float:
    """An epsilon-DP mechanism is (epsilon^2 / 2)-zCDP (Bun and Steinke 2016, Proposition 1.4)."""
    return epsilon * epsilon / 2


def rho_of_exponential_mechanism(epsilon: float) -> float:
    """The epsilon-exponential mechanism is (epsilon^2 / 8)-zCDP (Cesar and Rogers 2021, bounded range)."""
    return epsilon * epsilon / 8


def rho_of_gaussian(sensitivity: float, sigma: float) -> float:
    """Gaussian (or discrete Gaussian, CKS20 Theorem 14) noise sigma on an L2-sensitivity query: rho = D^2/(2 s^2)."""
    return sensitivity * sensitivity / (2 * sigma * sigma)
