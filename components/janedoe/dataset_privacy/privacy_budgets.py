"""Differentially private queries and synthetic data on registered datasets, charged to the caller's ledger budget.

Budgets are per (dataset id, analyst name) in the ledger that shares the service's database, so every API process
charges the same budget. An analyst's first use creates their budget from the table's `dp:` section of the policy;
an admin can set another. Only roles the policy names may spend (like row reads, a role it does not name gets 403).
"""

from janedoe.dataset_masking import MaskedViews, RoleNotAllowedError
from janedoe.dp_noise import run_query
from janedoe.errors import NotFoundError
from janedoe.ledger import Budget, Ledger
from janedoe.service_store import DatasetRecord, Principal


class DatasetPrivacy:
    """A dataset's DP queries for API callers: their role checked, their budget charged in the ledger first."""

    def __init__(self, ledger: Ledger, views: MaskedViews) -> None:
        self.ledger, self.views = ledger, views
        # Budgets known to exist (the ledger never deletes one), so a query skips the lookup; spend still checks.
        self._known_budgets: set[tuple[str, str]] = set()

    def check_role(self, record: DatasetRecord, principal: Principal) -> None:
        if principal.role not in (self.views.policy(record).roles or {}):
            raise RoleNotAllowedError("the dataset's policy gives this role no access", where=f"roles.{principal.role}")

    def analysis_modes(self, record: DatasetRecord, principal: Principal) -> frozenset[str]:
        """The analysis-job modes this caller may submit: dp for every role the policy names; review (the job reads
        the raw table) only for a role with `raw: true` or `review_jobs: true`."""
        self.check_role(record, principal)
        role = (self.views.policy(record).roles or {})[principal.role]
        return frozenset({"dp", "review"} if role.raw or role.review_jobs else {"dp"})

    def budget(self, record: DatasetRecord, analyst: str) -> Budget:
        """The analyst's budget on this dataset, created from the policy's `dp:` section on first use."""
        try:
            return self.ledger.budget(record.dataset_id, analyst)
        except NotFoundError:
            pass
        section = self.views.policy(record).tables[record.table_name].dp
        if section is None:
            raise NotFoundError(
                "no privacy budget: the policy's table has no dp section and no admin set one", where="ledger"
            )
        # Two processes may both get here: set_budget is idempotent for the same totals and never resets spends.
        return self.ledger.set_budget(
            record.dataset_id, analyst, epsilon=section.epsilon, delta=section.delta or 0.0, rho=section.rho
        )

    def query(
        self, record: DatasetRecord, principal: Principal, expression: str, *, epsilon: float, delta: float = 0.0,
        by: str | None = None,
    ) -> tuple[dict, Budget]:
        """One private answer and the budget as its charge left it; the ledger is charged before any noise is drawn
        (a refusal charges nothing)."""
        self.check_role(record, principal)
        if (record.dataset_id, principal.name) not in self._known_budgets:
            self.budget(record, principal.name)
            self._known_budgets.add((record.dataset_id, principal.name))
        table_policy = self.views.policy(record).tables[record.table_name]

        after: list[Budget] = []

        def charge(cost, mechanism: str) -> None:
            _spend, budget = self.ledger.charge(
                record.dataset_id, principal.name, cost, query=expression, mechanism=mechanism
            )
            after.append(budget)

        answer = run_query(
            self.views.raw_table(record), expression, epsilon=epsilon, delta=delta, section=table_policy.dp,
            columns_bounds=table_policy.columns, by=by, charge=charge,
        )
        return answer.to_dict(), after[0]
