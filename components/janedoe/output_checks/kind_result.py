"""What a check of one kind of output hands back: its findings, and how to write the checked copy if it passes."""

from collections.abc import Callable
from dataclasses import dataclass, field
from pathlib import Path

from janedoe.output_checks.model import Finding


@dataclass
class KindResult:
    findings: list[Finding] = field(default_factory=list)
    write: Callable[[Path], None] | None = None  # writes the checked copy (atomically) to the path it is given

    def block(self, check: str, message: str) -> "KindResult":
        self.findings.append(Finding(check, message, True))
        return self

    def note(self, check: str, message: str) -> None:
        self.findings.append(Finding(check, message, False))

    @property
    def blocked(self) -> bool:
        return any(finding.blocking for finding in self.findings)
