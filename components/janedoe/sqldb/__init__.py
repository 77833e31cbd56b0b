"""Database anonymization: scan a database for personal data, copy or dump it masked or mask it in place, foreign
keys intact.

Reads through one read-only snapshot; SQLite and PostgreSQL, either as source or target.
"""

from janedoe.sqldb.database_copy import CopyReport, copy_database
from janedoe.sqldb.dependency_order import TableOrder, order_tables
from janedoe.sqldb.in_place import InPlaceReport, anonymize_in_place
from janedoe.sqldb.policy_scan import scan_database
from janedoe.sqldb.reflection import reflect_schema
from janedoe.sqldb.schema_model import DatabaseSchema, ForeignKey, TableSchema
from janedoe.sqldb.sql_dump import dump_database
from janedoe.sqldb.table_batches import iter_table_batches, table_row_count

__all__ = [
    "CopyReport",
    "DatabaseSchema",
    "ForeignKey",
    "InPlaceReport",
    "TableOrder",
    "TableSchema",
    "anonymize_in_place",
    "copy_database",
    "dump_database",
    "iter_table_batches",
    "order_tables",
    "reflect_schema",
    "scan_database",
    "table_row_count",
]
