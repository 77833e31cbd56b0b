"""What a private query returns: the noisy value(s), the noise that was added, a 95% interval, and the cost."""

from dataclasses import dataclass, field

from janedoe.dp_noise.accountant import PrivacyCost


@dataclass(frozen=True)
class GroupAnswer:
    key: object
    value: float | int | None
    ci_95: tuple[float, float] | None

    def to_dict(self) -> dict:
        return {"key": self.key, "value": self.value, "ci_95": list(self.ci_95) if self.ci_95 else None}


@dataclass(frozen=True)
class QueryAnswer:
    """A released answer. ci_95 covers the true (clamped, contribution-bounded) value with probability >= 95%."""

    query: str
    mechanism: str
    cost: PrivacyCost
    value: float | int | None = None
    ci_95: tuple[float, float] | None = None
    groups: list[GroupAnswer] | None = None
    noise: list[dict] = field(default_factory=list)
    rows_per_user: int = 1
    notes: list[str] = field(default_factory=list)

    def to_dict(self) -> dict:
        return {
            "query": self.query,
            "mechanism": self.mechanism,
            "cost": self.cost.as_dict(),
            "value": self.value,
            "ci_95": list(self.ci_95) if self.ci_95 else None,
            "groups": [g.to_dict() for g in self.groups] if self.groups is not None else None,
            "noise": self.noise,
            "rows_per_user": self.rows_per_user,
            "notes": self.notes,
        }
