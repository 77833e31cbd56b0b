"""What the ledger returns: a budget's state and one spend, as plain frozen records."""

from dataclasses import asdict, dataclass


@dataclass(frozen=True)
class Budget:
    """A (dataset, analyst) budget. kind is 'pure', 'approx' or 'zcdp'; amounts are epsilon, or rho for 'zcdp'."""

    dataset: str
    analyst: str
    kind: str
    total: float
    spent: float
    total_delta: float
    spent_delta: float

    @property
    def remaining(self) -> float:
        return max(self.total - self.spent, 0.0)

    @property
    def remaining_delta(self) -> float:
        return max(self.total_delta - self.spent_delta, 0.0)

    @property
    def unit(self) -> str:
        return "rho" if self.kind == "zcdp" else "epsilon"

    def to_dict(self) -> dict:
        return {**asdict(self), "unit": self.unit, "remaining": self.remaining, "remaining_delta": self.remaining_delta}


@dataclass(frozen=True)
class Spend:
    """One charged release: when, what, how, and how much it took from the budget (in the budget's unit)."""

    id: int
    dataset: str
    analyst: str
    at: str
    query: str
    mechanism: str
    epsilon: float | None
    delta: float
    rho: float | None
    charged: float
    charged_delta: float

    def to_dict(self) -> dict:
        return asdict(self)
