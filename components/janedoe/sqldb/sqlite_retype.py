"""Changing a SQLite column's declared type in place, which SQLite has no ALTER for: its table is rebuilt.

`db anonymize` does it after emptying the table, inside its one transaction (foreign key enforcement is off on the
writer's connection): CREATE the table again from its own CREATE TABLE text with only that column's type replaced
(constraints, defaults, collations, CHECKs, WITHOUT ROWID and STRICT kept), DROP the old one, RENAME the new one to
its name (legacy_alter_table for the rename only, so views on the table are not checked against a table that is gone
for a moment), then CREATE its indexes again; the caller puts the triggers back and checks the foreign keys. The new
declared type gives the column the affinity of the masked values: masked text such as `1984` stays text.
"""

import re

_TOKEN = re.compile(
    r"""\s+|--[^\n]*|/\*.*?(?:\*/|$)|"(?:[^"]|"")*"|`(?:[^`]|``)*`|\[[^\]]*\]|'(?:[^']|'')*'"""
    r"""|[A-Za-z_][A-Za-z0-9_$]*|\S""",
    re.S,
)
_TABLE_CONSTRAINTS = {"CONSTRAINT", "PRIMARY", "UNIQUE", "CHECK", "FOREIGN"}
_COLUMN_CONSTRAINTS = {"CONSTRAINT", "PRIMARY", "NOT", "NULL", "UNIQUE", "CHECK", "DEFAULT", "COLLATE", "REFERENCES",
                       "GENERATED", "AS"}
_STRICT_TYPES = {"INT", "INTEGER", "REAL", "TEXT", "BLOB", "ANY"}


class CannotRetype(ValueError):
    """Why this column's type cannot be changed by rebuilding its table (one line, no values)."""


def _tokens(sql: str) -> list[tuple[int, int, str]]:
    return [(m.start(), m.end(), m.group()) for m in _TOKEN.finditer(sql)
            if not m.group().isspace() and not m.group().startswith(("--", "/*"))]


def _unquote(token: str) -> str:
    if token[:1] in "\"`[":
        inner = token[1:-1]
        return inner.replace('""', '"') if token[0] == '"' else inner.replace("``", "`")
    return token


def retyped_create_sql(create_sql: str, column: str, new_type: str, new_name: str) -> str:
    """`create_sql` (a table's text in sqlite_master) for a table named `new_name` whose `column` is declared
    `new_type`; raises CannotRetype when the table cannot take it."""
    tokens = _tokens(create_sql)
    opening = next((i for i, t in enumerate(tokens) if t[2] == "("), None)
    if opening is None:
        raise CannotRetype("its table was created AS SELECT, without column definitions")
    depth, parts, start = 0, [], opening + 1
    closing = None
    for i in range(opening, len(tokens)):
        text = tokens[i][2]
        depth += text == "("
        depth -= text == ")"
        if depth == 1 and text == ",":
            parts.append((start, i))
            start = i + 1
        if depth == 0:
            parts.append((start, i))
            closing = i
            break
    if closing is None:
        raise CannotRetype("its table's CREATE TABLE text could not be read")
    options = {t[2].upper() for t in tokens[closing + 1:]}
    if "STRICT" in options and new_type.split("(")[0].upper() not in _STRICT_TYPES:
        raise CannotRetype(f"its table is STRICT, which allows no {new_type} column")
    for first, end in parts:
        if first >= end or tokens[first][2].upper() in _TABLE_CONSTRAINTS and tokens[first][2][0] not in "\"`[":
            continue
        if _unquote(tokens[first][2]).lower() != column.lower():
            continue
        words = {t[2].upper() for t in tokens[first + 1:end]}
        if "AUTOINCREMENT" in words:
            raise CannotRetype(f"it is an AUTOINCREMENT key, which must stay INTEGER (masked values are {new_type})")
        if "GENERATED" in words or ("AS" in words and "(" in {t[2] for t in tokens[first + 1:end]}):
            raise CannotRetype("it is a generated column: its values come from an expression, not from the rows")
        type_end, depth = first + 1, 0
        while type_end < end:
            text = tokens[type_end][2]
            if depth == 0 and text.upper() in _COLUMN_CONSTRAINTS:
                break
            depth += (text == "(") - (text == ")")
            type_end += 1
        name_end = tokens[first][1]
        rest = create_sql[tokens[type_end][0]:] if type_end < len(tokens) else ""
        body = create_sql[tokens[opening][1]:name_end] + f" {new_type} " + rest
        return f'CREATE TABLE "{new_name.replace(chr(34), chr(34) * 2)}" (' + body.lstrip()
    raise CannotRetype("its column definition could not be found in the table's CREATE TABLE text")
