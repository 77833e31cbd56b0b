"""What a job declares it wrote, the rules its outputs are checked against, and what the checks found."""

from dataclasses import dataclass, field
from pathlib import Path

KINDS = ("table", "figure", "text", "notebook")


@dataclass(frozen=True)
class DeclaredOutput:
    path: str  # relative to the output folder, e.g. "counts.csv"
    kind: str  # "table" | "figure" | "text" | "notebook"
    count_columns: tuple[str, ...] = ()  # suppressed and rounded; none declared: integer columns named like counts


@dataclass(frozen=True)
class OutputRules:
    max_bytes: int = 10 * 2**20
    max_rows: int = 10_000
    min_count: int = 10
    rounding_base: int = 5
    identifier_columns: frozenset[str] = field(default_factory=frozenset)  # names no output table may have


@dataclass(frozen=True)
class Finding:
    check: str  # "file_type", "size", "rows", "identifier_column", "identifier_values", "small_cells", "rounded",
    # "notebook_outputs", "undeclared" or "missing"
    message: str  # one line, never a value from the data
    blocking: bool


@dataclass(frozen=True)
class CheckedOutput:
    """`passed`: the output may go to reviewers: declared, present and without a blocking finding (an undeclared
    file never passes, though its finding blocks nothing else). `checked_file` is None whenever it did not pass."""

    path: str
    kind: str
    passed: bool
    findings: tuple[Finding, ...]
    checked_file: Path | None
    sha256: str | None
