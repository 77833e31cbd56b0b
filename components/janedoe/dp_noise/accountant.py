"""Privacy costs, their composition, and an in-memory budget that refuses before any noise is drawn.

A budget is one of three kinds: pure (epsilon), approximate (epsilon, delta > 0, basic composition) or zCDP (rho).
Costs are converted into the budget's kind only when the conversion is sound: a pure epsilon cost counts as
epsilon^2/2 in a zCDP budget; a zCDP cost cannot be charged to a pure budget; an (epsilon, delta > 0) cost cannot be
charged to a zCDP budget.
"""

import math
import threading
from dataclasses import dataclass

from janedoe.dp_noise.conversions import rho_from_pure_epsilon
from janedoe.errors import BudgetExceededError, JaneDoeInputError

_SLACK = 1e-12  # float sums of costs may exceed the total by rounding only


def _non_negative(value, name: str) -> float:
    if value is None:
        return 0.0
    if isinstance(value, bool) or not isinstance(value, (int, float)) or not math.isfinite(value) or value < 0:
        raise JaneDoeInputError(f"{name} must be a non-negative number", where=name)
    return float(value)


@dataclass(frozen=True)
class PrivacyCost:
    """What one release costs: epsilon (with delta), rho (zCDP), or both when a mechanism is known to satisfy both.

    None means "no guarantee of that kind": a Gaussian release has rho but no pure epsilon.
    """

    epsilon: float | None = None
    delta: float = 0.0
    rho: float | None = None

    def __post_init__(self) -> None:
        if self.epsilon is None and self.rho is None:
            raise JaneDoeInputError("a privacy cost needs epsilon or rho", where="cost")
        if self.epsilon is not None:
            object.__setattr__(self, "epsilon", _non_negative(self.epsilon, "epsilon"))
        object.__setattr__(self, "delta", _non_negative(self.delta, "delta"))
        if self.delta >= 1:
            raise JaneDoeInputError("delta must be below 1", where="delta")
        if self.rho is not None:
            object.__setattr__(self, "rho", _non_negative(self.rho, "rho"))

    @property
    def zcdp_rho(self) -> float | None:
        """rho of this cost in zCDP terms: its own rho, or epsilon^2/2 for a pure cost, else None."""
        if self.rho is not None:
            return self.rho
        if self.delta == 0 and self.epsilon is not None:
            return rho_from_pure_epsilon(self.epsilon)
        return None

    def as_dict(self) -> dict:
        return {"epsilon": self.epsilon, "delta": self.delta, "rho": self.rho}


def compose_sequential(costs) -> PrivacyCost:
    """Releases on the same data: epsilons, deltas and rhos add up (basic composition)."""
    costs = list(costs)
    if not costs:
        raise JaneDoeInputError("nothing to compose", where="cost")
    epsilons = [c.epsilon for c in costs]
    rhos = [c.zcdp_rho for c in costs]
    return PrivacyCost(
        None if None in epsilons else math.fsum(epsilons),
        math.fsum(c.delta for c in costs) if None not in epsilons else 0.0,
        None if None in rhos else math.fsum(rhos),
    )


def compose_parallel(costs) -> PrivacyCost:
    """Releases on disjoint parts of the data (each person in at most one part): the largest cost counts."""
    costs = list(costs)
    if not costs:
        raise JaneDoeInputError("nothing to compose", where="cost")
    epsilons = [c.epsilon for c in costs]
    rhos = [c.zcdp_rho for c in costs]
    return PrivacyCost(
        None if None in epsilons else max(epsilons),
        max(c.delta for c in costs) if None not in epsilons else 0.0,
        None if None in rhos else max(rhos),
    )


def budget_kind(epsilon: float | None, delta: float | None, rho: float | None) -> str:
    """'pure', 'approx' or 'zcdp'; a budget gives epsilon (optionally with delta) or rho, not both."""
    if rho is not None and epsilon is not None:
        raise JaneDoeInputError("a budget gives either epsilon (with optional delta) or rho, not both", where="budget")
    if rho is not None:
        if _non_negative(rho, "rho") <= 0:
            raise JaneDoeInputError("rho must be positive", where="rho")
        if delta:
            raise JaneDoeInputError("a rho budget takes no delta", where="delta")
        return "zcdp"
    if epsilon is None or _non_negative(epsilon, "epsilon") <= 0:
        raise JaneDoeInputError("a budget needs a positive epsilon or rho", where="epsilon")
    delta = _non_negative(delta, "delta")
    if delta >= 1:
        raise JaneDoeInputError("delta must be below 1", where="delta")
    return "approx" if delta > 0 else "pure"


def charge_in_kind(kind: str, cost: PrivacyCost) -> tuple[float, float]:
    """The (primary, delta) amount a cost takes from a budget of this kind; primary is epsilon or rho."""
    if kind == "zcdp":
        if cost.zcdp_rho is None:
            raise JaneDoeInputError("an (epsilon, delta) cost cannot be charged to a rho budget", where="cost")
        return cost.zcdp_rho, 0.0
    if cost.epsilon is None:
        raise JaneDoeInputError("a rho cost needs converting to (epsilon, delta) for an epsilon budget", where="cost")
    if kind == "pure" and cost.delta > 0:
        raise JaneDoeInputError("a pure-epsilon budget only takes costs with delta = 0", where="cost")
    return cost.epsilon, cost.delta


class Accountant:
    """An in-memory budget for one analysis; thread-safe. For a budget that survives restarts use janedoe.ledger."""

    def __init__(self, *, epsilon: float | None = None, delta: float = 0.0, rho: float | None = None) -> None:
        self.kind = budget_kind(epsilon, delta, rho)
        budget = rho if self.kind == "zcdp" else epsilon
        assert budget is not None  # budget_kind refused a budget without it
        self.total = float(budget)
        self.total_delta = float(delta or 0.0)
        self.spent = 0.0
        self.spent_delta = 0.0
        self.log: list[PrivacyCost] = []
        self._lock = threading.Lock()

    @property
    def remaining(self) -> float:
        return max(self.total - self.spent, 0.0)

    @property
    def remaining_delta(self) -> float:
        return max(self.total_delta - self.spent_delta, 0.0)

    def _fits(self, amount: float, delta: float) -> bool:
        return self.spent + amount <= self.total * (1 + _SLACK) and self.spent_delta + delta <= self.total_delta * (
            1 + _SLACK
        )

    def can_afford(self, cost: PrivacyCost) -> bool:
        amount, delta = charge_in_kind(self.kind, cost)
        with self._lock:
            return self._fits(amount, delta)

    def spend(self, cost: PrivacyCost) -> None:
        """Charge a cost, or raise BudgetExceededError and charge nothing. Call it before drawing noise."""
        amount, delta = charge_in_kind(self.kind, cost)
        with self._lock:
            if not self._fits(amount, delta):
                raise BudgetExceededError("this query would exceed the privacy budget; nothing was spent")
            self.spent += amount
            self.spent_delta += delta
            self.log.append(cost)

    def spend_parallel(self, costs) -> None:
        """Charge releases on disjoint partitions: only the largest counts."""
        self.spend(compose_parallel(costs))

    def spend_sequential(self, costs) -> None:
        """Charge several releases at once, all or nothing."""
        self.spend(compose_sequential(costs))
