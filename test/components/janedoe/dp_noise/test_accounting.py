"""Conversions against independent numeric computations, and composition results worked out by hand."""

import math
import threading

import numpy as np
import pytest
from janedoe.dp_noise import (
    Accountant,
    PrivacyCost,
    compose_parallel,
    compose_sequential,
    epsilon_from_rho_delta,
    exponential_mechanism,
    rho_from_epsilon_delta,
    rho_of_exponential_mechanism,
)
from janedoe.errors import BudgetExceededError, JaneDoeInputError
from scipy import optimize, stats

CASES = [(0.5, 1e-5), (0.01, 1e-6), (1.0, 1e-9), (10.0, 1e-5), (0.001, 1e-10)]


def cks_delta(rho: float, epsilon: float) -> float:
    """CKS20 Corollary 13 in its delta form, minimised numerically over alpha with scipy (independent of the code)."""

    def log_delta(alpha):
        return (alpha - 1) * (alpha * rho - epsilon) - math.log(alpha - 1) + alpha * math.log(1 - 1 / alpha)

    result = optimize.minimize_scalar(log_delta, bounds=(1 + 1e-9, 1e6), method="bounded", options={"xatol": 1e-12})
    return math.exp(result.fun)


def gaussian_exact_delta(sigma: float, epsilon: float) -> float:
    """The Gaussian mechanism's exact privacy profile (Balle and Wang 2018), sensitivity 1."""
    return stats.norm.cdf(-epsilon * sigma + 1 / (2 * sigma)) - math.exp(epsilon) * stats.norm.cdf(
        -epsilon * sigma - 1 / (2 * sigma)
    )


@pytest.mark.parametrize("rho,delta", CASES)
def test_epsilon_from_rho_delta_is_the_cks_bound(rho, delta):
    epsilon = epsilon_from_rho_delta(rho, delta)
    # the delta form of the same bound, evaluated at our epsilon, gives back delta (tight, not loose)
    assert cks_delta(rho, epsilon) == pytest.approx(delta, rel=1e-5)
    assert cks_delta(rho, epsilon * 0.999) > delta
    # tighter than the classic rho + 2 sqrt(rho log 1/delta), never below the Gaussian's exact curve
    assert epsilon < rho + 2 * math.sqrt(rho * math.log(1 / delta))
    sigma = 1 / math.sqrt(2 * rho)
    assert gaussian_exact_delta(sigma, epsilon) <= delta


def test_published_value():
    # OpenDP's zCDP_to_approxDP test: Gaussian scale 4, sensitivity 1 (rho = 1/32) at delta = 1e-3
    assert epsilon_from_rho_delta(1 / 32, 1e-3) == pytest.approx(0.6880024554878086, rel=1e-9)


@pytest.mark.parametrize("rho,delta", CASES)
def test_rho_from_epsilon_delta_inverts(rho, delta):
    epsilon = epsilon_from_rho_delta(rho, delta)
    back = rho_from_epsilon_delta(epsilon, delta)
    assert back == pytest.approx(rho, rel=1e-9)
    assert epsilon_from_rho_delta(back, delta) <= epsilon * (1 + 1e-9)


def test_conversion_bad_input():
    for args in [(-1, 1e-5), (1, 0), (1, 1), (float("nan"), 1e-5)]:
        with pytest.raises(JaneDoeInputError):
            epsilon_from_rho_delta(*args)
    with pytest.raises(JaneDoeInputError):
        rho_from_epsilon_delta(-1, 1e-5)


def test_sequential_and_parallel_composition_by_hand():
    costs = [PrivacyCost(epsilon=0.5), PrivacyCost(epsilon=0.25, delta=1e-6), PrivacyCost(epsilon=0.1)]
    total = compose_sequential(costs)
    assert total.epsilon == pytest.approx(0.85) and total.delta == pytest.approx(1e-6) and total.rho is None
    widest = compose_parallel(costs)
    assert widest.epsilon == 0.5 and widest.delta == 1e-6
    zcdp = compose_sequential([PrivacyCost(rho=0.1), PrivacyCost(epsilon=1.0)])
    assert zcdp.rho == pytest.approx(0.6) and zcdp.epsilon is None  # pure 1.0 counts as rho 0.5


def test_pure_accountant_refuses_before_overspending():
    accountant = Accountant(epsilon=1.0)
    for _ in range(3):
        accountant.spend(PrivacyCost(epsilon=0.3))
    with pytest.raises(BudgetExceededError):
        accountant.spend(PrivacyCost(epsilon=0.2))
    assert accountant.remaining == pytest.approx(0.1)
    accountant.spend(PrivacyCost(epsilon=0.1))
    assert accountant.remaining == pytest.approx(0.0)
    with pytest.raises(JaneDoeInputError):
        accountant.spend(PrivacyCost(epsilon=0.0, delta=1e-6))  # delta in a pure budget
    with pytest.raises(JaneDoeInputError):
        accountant.spend(PrivacyCost(rho=0.001))


def test_zcdp_accountant_counts_pure_and_exponential_costs():
    accountant = Accountant(rho=1.0)
    accountant.spend(PrivacyCost(epsilon=1.0))  # 0.5
    accountant.spend(PrivacyCost(epsilon=1.0, rho=rho_of_exponential_mechanism(1.0)))  # 0.125
    accountant.spend_parallel([PrivacyCost(rho=0.2), PrivacyCost(rho=0.3)])  # 0.3
    assert accountant.spent == pytest.approx(0.925)
    with pytest.raises(BudgetExceededError):
        accountant.spend(PrivacyCost(rho=0.1))
    with pytest.raises(JaneDoeInputError):
        accountant.spend(PrivacyCost(epsilon=0.01, delta=1e-9))


def test_approx_accountant_tracks_delta_too():
    accountant = Accountant(epsilon=2.0, delta=1e-5)
    accountant.spend_sequential([PrivacyCost(epsilon=0.5, delta=6e-6), PrivacyCost(epsilon=0.5)])
    with pytest.raises(BudgetExceededError):
        accountant.spend(PrivacyCost(epsilon=0.1, delta=6e-6))
    assert accountant.remaining == pytest.approx(1.0) and accountant.remaining_delta == pytest.approx(4e-6)


def test_bad_budgets():
    for kwargs in [{}, {"epsilon": -1}, {"epsilon": 1, "rho": 1}, {"epsilon": 1, "delta": 1.5}, {"rho": 0}]:
        with pytest.raises(JaneDoeInputError):
            Accountant(**kwargs)
    with pytest.raises(JaneDoeInputError):
        PrivacyCost()


def test_accountant_is_thread_safe():
    accountant = Accountant(epsilon=10.0)
    answered = []

    def worker():
        for _ in range(20):
            try:
                accountant.spend(PrivacyCost(epsilon=0.1))
                answered.append(1)
            except BudgetExceededError:
                pass

    threads = [threading.Thread(target=worker) for _ in range(10)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()
    assert len(answered) == 100 and accountant.remaining == pytest.approx(0.0, abs=1e-9)


def test_exponential_mechanism_has_the_exponential_law():
    scores = np.array([0.0, 1.0, 2.0, 5.0, 5.5])
    rng = np.random.default_rng(9)
    picks = np.array([exponential_mechanism(scores, 1.0, 1.0, rng) for _ in range(5_000)])
    weights = np.exp(1.0 * scores / 2)  # exp(eps * score / (2 * sensitivity))
    assert stats.chisquare(np.bincount(picks, minlength=5), weights / weights.sum() * picks.size).pvalue > 1e-4
    with pytest.raises(JaneDoeInputError):
        exponential_mechanism([], 1.0, 1.0)
    with pytest.raises(JaneDoeInputError):
        exponential_mechanism([1, 2], -1.0, 1.0)
