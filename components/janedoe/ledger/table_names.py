"""The ledger's two tables, named once: the SQLAlchemy store defines them, the SQLite reader reads them."""

BUDGETS_TABLE = "janedoe_dp_budgets"
SPENDS_TABLE = "janedoe_dp_spends"
