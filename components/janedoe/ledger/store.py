"""The persisted budget ledger: SQLite for one host, PostgreSQL for several processes or hosts.

A spend is one conditional UPDATE whose WHERE clause is the budget check, and the spend's INSERT, committed before
the caller draws any noise (spend first, answer after: a crash afterwards loses an answer, never refunds budget). The
database re-evaluates that WHERE against the latest row under the row's write lock, so concurrent spenders cannot
overspend. PostgreSQL runs both as one autocommit statement (a CTE); SQLite inside BEGIN IMMEDIATE.
"""

import datetime
import os
import time
from collections.abc import Callable
from types import SimpleNamespace
from typing import TYPE_CHECKING, Any

from janedoe.database_access import SqliteWriterLock, parse_database_url, use_wal
from janedoe.errors import BudgetExceededError, JaneDoeInputError, NotFoundError
from janedoe.ledger.records import Budget, Spend
from janedoe.ledger.table_names import BUDGETS_TABLE, SPENDS_TABLE
from sqlalchemy import (
    Column,
    Float,
    Integer,
    MetaData,
    String,
    Table,
    Text,
    UniqueConstraint,
    bindparam,
    create_engine,
    event,
    insert,
    select,
    text,
    update,
)
from sqlalchemy.exc import DBAPIError, IntegrityError, OperationalError

if TYPE_CHECKING:  # janedoe.dp_noise (numpy, pyarrow) is imported where a cost is charged, not to read a budget
    from janedoe.dp_noise import PrivacyCost

_SLACK = 1e-9  # float sums of costs may pass the total by rounding only

metadata = MetaData()
budgets = Table(
    BUDGETS_TABLE,
    metadata,
    Column("dataset", String(200), primary_key=True),
    Column("analyst", String(200), primary_key=True),
    Column("kind", String(10), nullable=False),
    Column("total", Float, nullable=False),
    Column("total_delta", Float, nullable=False),
    Column("spent", Float, nullable=False),
    Column("spent_delta", Float, nullable=False),
    Column("updated_at", String(40), nullable=False),
)
spends = Table(
    SPENDS_TABLE,
    metadata,
    Column("id", Integer, primary_key=True, autoincrement=True),
    Column("dataset", String(200), nullable=False, index=True),
    Column("analyst", String(200), nullable=False, index=True),
    Column("at", String(40), nullable=False),
    Column("query", Text, nullable=False),
    Column("mechanism", String(100), nullable=False),
    Column("epsilon", Float),
    Column("delta", Float, nullable=False),
    Column("rho", Float),
    Column("charged", Float, nullable=False),
    Column("charged_delta", Float, nullable=False),
    UniqueConstraint("id"),
)


def _charge_parameters(cost: "PrivacyCost") -> dict:
    """What the cost takes from a budget of each kind (as charge_in_kind says), and which kinds may take it at all."""
    rho, epsilon = cost.zcdp_rho, cost.epsilon
    return {
        "zcdp_ok": int(rho is not None),
        "approx_ok": int(epsilon is not None),
        "pure_ok": int(epsilon is not None and cost.delta == 0),
        "rho_amount": float(rho if rho is not None else 0.0),
        "epsilon_amount": float(epsilon if epsilon is not None else 0.0),
        "delta_amount": float(cost.delta),
    }


# The budget check of charge_in_kind + the old SELECT ... FOR UPDATE, as one UPDATE's SET and WHERE (same float sums).
_CHARGED = "CASE WHEN kind = 'zcdp' THEN :rho_amount ELSE :epsilon_amount END"
_CHARGED_DELTA = "CASE WHEN kind = 'zcdp' THEN 0.0 ELSE :delta_amount END"
_BUDGET_AFTER = "kind, total, spent, total_delta, spent_delta"  # the row as this charge left it
_CHARGE = f"""
    UPDATE {BUDGETS_TABLE}
    SET spent = spent + {_CHARGED}, spent_delta = spent_delta + {_CHARGED_DELTA}, updated_at = :at
    WHERE dataset = :dataset AND analyst = :analyst
      AND (CASE kind WHEN 'zcdp' THEN :zcdp_ok WHEN 'approx' THEN :approx_ok WHEN 'pure' THEN :pure_ok ELSE 0 END) = 1
      AND spent + {_CHARGED} <= total * :factor
      AND spent_delta + {_CHARGED_DELTA} <= total_delta * :factor
    RETURNING {_CHARGED} AS charged, {_CHARGED_DELTA} AS charged_delta, {_BUDGET_AFTER}
"""
_RECORD_COLUMNS = "dataset, analyst, at, query, mechanism, epsilon, delta, rho, charged, charged_delta"
_PG_SPEND = text(
    f"""
    WITH charged AS ({_CHARGE}),
    recorded AS (
        INSERT INTO {SPENDS_TABLE} ({_RECORD_COLUMNS})
        SELECT :dataset, :analyst, :at, :query, :mechanism, :epsilon, :delta, :rho, charged, charged_delta
        FROM charged
        RETURNING id
    )
    SELECT recorded.id, charged.* FROM recorded, charged
    """
).bindparams(
    bindparam("epsilon", type_=Float), bindparam("rho", type_=Float), bindparam("delta", type_=Float),
    bindparam("rho_amount", type_=Float), bindparam("epsilon_amount", type_=Float),
    bindparam("delta_amount", type_=Float), bindparam("factor", type_=Float),
    bindparam("zcdp_ok", type_=Integer), bindparam("approx_ok", type_=Integer), bindparam("pure_ok", type_=Integer),
)
_SQLITE_CHARGE = text(_CHARGE)
_SQLITE_RECORD = text(
    f"INSERT INTO {SPENDS_TABLE} ({_RECORD_COLUMNS}) VALUES "
    "(:dataset, :analyst, :at, :query, :mechanism, :epsilon, :delta, :rho, :charged, :charged_delta) RETURNING id"
)


def _now() -> str:
    return datetime.datetime.now(datetime.UTC).isoformat(timespec="microseconds")


_TRANSIENT_SQLSTATES = ("40001", "40P01")  # PostgreSQL's serialization failure and deadlock: safe to run again


def _retrying(attempt: Callable):
    """attempt() until it returns: PostgreSQL's serialization failures and deadlocks, and SQLite's "database is
    locked", are retried with a growing pause (at most 50 times); any other error is raised at once."""
    for tries in range(50):
        try:
            return attempt()
        except (OperationalError, DBAPIError) as error:
            code = getattr(getattr(error, "orig", None), "sqlstate", None)
            if code in _TRANSIENT_SQLSTATES or "database is locked" in str(error):
                time.sleep(min(0.001 * 2**tries, 0.2))
                continue
            raise
    raise JaneDoeInputError("the ledger is too busy; try again", where="ledger")


def _name(value, what: str) -> str:
    if not isinstance(value, str) or not value.strip() or len(value) > 200:
        raise JaneDoeInputError(f"{what} must be a non-empty name of at most 200 characters", where=what)
    return value


def _checked(dataset, analyst, cost) -> tuple[str, str]:
    """(dataset, analyst) of a charge or its check, refusing bad names and a cost that is not a PrivacyCost."""
    from janedoe.dp_noise import PrivacyCost

    names = _name(dataset, "dataset"), _name(analyst, "analyst")
    if not isinstance(cost, PrivacyCost):
        raise JaneDoeInputError("cost must be a PrivacyCost", where="cost")
    return names


class Ledger:
    """Privacy budgets per (dataset, analyst) that survive restarts and concurrent spenders."""

    def __init__(self, engine, dialect: str) -> None:
        self.engine = engine
        self.dialect = dialect
        # SQLite has one writer at a time: threads and processes queue on the writer lock instead of in SQLite's busy
        # handler. PostgreSQL locks per budget row, so its threads go straight in (the lock is a no-op there).
        self._writer = SqliteWriterLock(engine)
        # One-statement spends need no BEGIN/COMMIT round trips: the statement is its own transaction.
        self._autocommit = engine.execution_options(isolation_level="AUTOCOMMIT") if dialect == "postgresql" else None

    @classmethod
    def open(cls, path_or_url) -> "Ledger":
        location = parse_database_url(os.fspath(path_or_url), where="ledger", any_path=True)
        location.check_directory(where="ledger")
        dialect, url = location.dialect, location.sqlalchemy_url()
        if dialect == "sqlite":
            engine = create_engine(url, connect_args={"timeout": 60, "isolation_level": None})
            use_wal(engine, busy_timeout_ms=60_000)

            @event.listens_for(engine, "begin")
            def _write_lock_up_front(connection):
                connection.exec_driver_sql("BEGIN IMMEDIATE")

        else:
            # Keep enough connections pooled for a server's request threads: an overflow connection is closed on
            # return, and opening a PostgreSQL connection costs more than the spend itself. Same cap as before (25).
            engine = create_engine(url, pool_pre_ping=True, pool_size=15, max_overflow=10)
        ledger = cls(engine, dialect)
        ledger._create_tables()
        return ledger

    def close(self) -> None:
        self.engine.dispose()
        self._writer.close()

    def __enter__(self) -> "Ledger":
        return self

    def __exit__(self, *_exc) -> None:
        self.close()

    def _create_tables(self) -> None:
        try:
            with self.engine.begin() as connection:
                if self.dialect == "postgresql":  # several processes may open a fresh database at once
                    connection.execute(text("SELECT pg_advisory_xact_lock(724011)"))
                metadata.create_all(connection)
        except OperationalError:
            raise JaneDoeInputError("cannot open the ledger database", where="ledger") from None

    def _transaction(self, work):
        """Run work(connection) in one transaction, retried as _retrying says."""

        def attempt():
            with self._writer.held(), self.engine.begin() as connection:
                return work(connection)

        return _retrying(attempt)

    def set_budget(
        self, dataset: str, analyst: str, *, epsilon: float | None = None, delta: float = 0.0, rho: float | None = None
    ) -> Budget:
        """Create or change a budget. Its kind (pure, approx, zcdp) cannot change once something was spent."""
        from janedoe.dp_noise import budget_kind

        dataset, analyst = _name(dataset, "dataset"), _name(analyst, "analyst")
        kind = budget_kind(epsilon, delta, rho)
        budget_total = rho if kind == "zcdp" else epsilon
        assert budget_total is not None  # budget_kind refused a budget without it
        total = float(budget_total)
        total_delta = float(delta or 0.0)

        def work(connection):
            row = connection.execute(self._locked(dataset, analyst)).one_or_none()
            if row is None:
                connection.execute(
                    insert(budgets).values(
                        dataset=dataset,
                        analyst=analyst,
                        kind=kind,
                        total=total,
                        total_delta=total_delta,
                        spent=0.0,
                        spent_delta=0.0,
                        updated_at=_now(),
                    )
                )
                return Budget(dataset, analyst, kind, total, 0.0, total_delta, 0.0)
            if row.kind != kind and (row.spent > 0 or row.spent_delta > 0):
                raise JaneDoeInputError("cannot change the kind of a budget that has spends", where="budget")
            connection.execute(
                update(budgets)
                .where(budgets.c.dataset == dataset, budgets.c.analyst == analyst)
                .values(kind=kind, total=total, total_delta=total_delta, updated_at=_now())
            )
            return Budget(dataset, analyst, kind, total, row.spent, total_delta, row.spent_delta)

        try:
            return self._transaction(work)
        except IntegrityError:  # another process created the same budget row first: update it instead
            return self._transaction(work)

    def _locked(self, dataset: str, analyst: str):
        query = select(budgets).where(budgets.c.dataset == dataset, budgets.c.analyst == analyst)
        return query.with_for_update() if self.dialect == "postgresql" else query

    def spend(self, dataset: str, analyst: str, cost: "PrivacyCost", *, query: str, mechanism: str) -> Spend:
        """Charge a cost before any noise is drawn, or raise BudgetExceededError and charge nothing."""
        return self.charge(dataset, analyst, cost, query=query, mechanism=mechanism)[0]

    def charge(
        self, dataset: str, analyst: str, cost: "PrivacyCost", *, query: str, mechanism: str
    ) -> tuple[Spend, Budget]:
        """`spend`, also returning the budget as this very charge left it (no second read, no other spend between).

        The success path is one conditional UPDATE (the budget check is its WHERE clause, so the database re-checks
        it against the latest row under the row's write lock) plus the spend's INSERT: on PostgreSQL a single
        autocommit statement (one round trip, the row lock held only inside it), on SQLite one BEGIN IMMEDIATE
        transaction. Only when nothing was charged is the row read again, to say why.
        """
        dataset, analyst = _checked(dataset, analyst, cost)
        values: dict[str, Any] = dict(
            dataset=dataset,
            analyst=analyst,
            query=str(query),
            mechanism=str(mechanism),
            epsilon=cost.epsilon,
            delta=cost.delta,
            rho=cost.rho,
        )
        for _attempt in range(50):
            at = _now()
            charged = self._try_charge({**values, **_charge_parameters(cost), "at": at, "factor": 1 + _SLACK})
            if charged is not None:
                spend = Spend(id=charged.id, at=at, charged=charged.charged, charged_delta=charged.charged_delta,
                              **values)
                after = Budget(dataset, analyst, charged.kind, charged.total, charged.spent, charged.total_delta,
                               charged.spent_delta)
                return spend, after
            self._refusal(dataset, analyst, cost)  # raises, unless the budget changed meanwhile and now fits
        raise JaneDoeInputError("the ledger is too busy; try again", where="ledger")

    def check_affordable(self, dataset: str, analyst: str, cost: "PrivacyCost") -> None:
        """Raise what `charge` would raise for this cost now (NotFoundError, BudgetExceededError, or an input error
        for a cost the budget's kind cannot take) and charge nothing: lets a caller refuse before expensive work.

        Only advisory: a spend by someone else may come in between, so the charge itself re-checks atomically.
        """
        dataset, analyst = _checked(dataset, analyst, cost)
        self._refusal(dataset, analyst, cost)

    def _try_charge(self, parameters: dict):
        """A row (id, charged, charged_delta and the budget after the charge), or None when the budget is missing,
        too small or of another kind."""
        if self.dialect == "postgresql":
            assert self._autocommit is not None  # made for every PostgreSQL ledger
            autocommit = self._autocommit

            def attempt():
                with autocommit.connect() as connection:
                    return connection.execute(_PG_SPEND, parameters).one_or_none()

            return _retrying(attempt)

        def work(connection):
            row = connection.execute(_SQLITE_CHARGE, parameters).one_or_none()
            if row is None:
                return None
            spend_id = connection.execute(
                _SQLITE_RECORD, {**parameters, "charged": row.charged, "charged_delta": row.charged_delta}
            ).scalar_one()
            return SimpleNamespace(id=spend_id, **row._asdict())

        return self._transaction(work)

    def _refusal(self, dataset: str, analyst: str, cost: "PrivacyCost") -> None:
        """Raise the reason a charge matched no row; return (so the caller retries) if it would fit now."""
        with self._writer.held(), self.engine.connect() as connection:
            row = connection.execute(
                select(budgets).where(budgets.c.dataset == dataset, budgets.c.analyst == analyst)
            ).one_or_none()
            connection.rollback()
        if row is None:
            raise NotFoundError("no privacy budget is set for this dataset and analyst", where="ledger")
        from janedoe.dp_noise import charge_in_kind

        amount, delta = charge_in_kind(row.kind, cost)  # raises for a cost the budget's kind cannot take
        unit = "rho" if row.kind == "zcdp" else "epsilon"
        if row.spent + amount > row.total * (1 + _SLACK) or row.spent_delta + delta > row.total_delta * (1 + _SLACK):
            raise BudgetExceededError(
                f"privacy budget exceeded: this query needs {amount:.6g} {unit} but only "
                f"{max(row.total - row.spent, 0.0):.6g} remains; nothing was spent",
                where="ledger",
            )

    def budget(self, dataset: str, analyst: str) -> Budget:
        with self._writer.held(), self.engine.connect() as connection:  # SQLite reads lock up front too
            row = connection.execute(
                select(budgets).where(budgets.c.dataset == dataset, budgets.c.analyst == analyst)
            ).one_or_none()
            connection.rollback()
        if row is None:
            raise NotFoundError("no privacy budget is set for this dataset and analyst", where="ledger")
        return Budget(row.dataset, row.analyst, row.kind, row.total, row.spent, row.total_delta, row.spent_delta)

    def budgets(self, dataset: str | None = None, analyst: str | None = None) -> list[Budget]:
        query = select(budgets).order_by(budgets.c.dataset, budgets.c.analyst)
        if dataset is not None:
            query = query.where(budgets.c.dataset == dataset)
        if analyst is not None:
            query = query.where(budgets.c.analyst == analyst)
        with self._writer.held(), self.engine.connect() as connection:  # SQLite reads lock up front too
            rows = connection.execute(query).all()
            connection.rollback()
        return [Budget(r.dataset, r.analyst, r.kind, r.total, r.spent, r.total_delta, r.spent_delta) for r in rows]

    def spends(self, dataset: str | None = None, analyst: str | None = None) -> list[Spend]:
        query = select(spends).order_by(spends.c.id)
        if dataset is not None:
            query = query.where(spends.c.dataset == dataset)
        if analyst is not None:
            query = query.where(spends.c.analyst == analyst)
        with self._writer.held(), self.engine.connect() as connection:  # SQLite reads lock up front too
            rows = connection.execute(query).all()
            connection.rollback()
        return [Spend(**row._asdict()) for row in rows]
