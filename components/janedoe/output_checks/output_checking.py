"""The checks of everything a review-mode job wrote, before any person sees it.

Only declared files are considered; each is read once without following symlinks (a symlink, special file or hard
link is refused: it could point at the real data), checked by its kind, and, when nothing blocks it, its checked copy
is written atomically to `checked_dir` with its sha256. Findings name columns by position and never quote a value.
"""

import os
import re
import stat
from collections.abc import Sequence
from pathlib import Path, PurePosixPath

from janedoe.output_checks.checked_files import sha256_of
from janedoe.output_checks.figure_checks import check_png, check_svg
from janedoe.output_checks.file_types import file_type_problem
from janedoe.output_checks.identifier_index import IdentifierIndex
from janedoe.output_checks.kind_result import KindResult
from janedoe.output_checks.model import CheckedOutput, DeclaredOutput, Finding, OutputRules
from janedoe.output_checks.notebook_checks import check_notebook
from janedoe.output_checks.table_checks import check_table
from janedoe.output_checks.text_checks import check_text


def _inside(path: str) -> str | None:
    """The declared path as a clean relative POSIX path, or None when it would leave the output folder."""
    parts = PurePosixPath(path).parts
    if not parts or PurePosixPath(path).is_absolute() or any(part in ("..", ".", "") for part in parts):
        return None
    return "/".join(parts)


def _present(root: Path) -> set[str]:
    """Every entry under root that is not a plain directory (symlinked directories included, never followed)."""
    found: set[str] = set()
    for folder, directories, files in os.walk(root, followlinks=False):
        here = Path(folder)
        names = files + [name for name in directories if (here / name).is_symlink()]
        found.update((here / name).relative_to(root).as_posix() for name in names)
    return found


def _name_parts(relative: str) -> list[str]:
    """A file's path as texts an identifier could be hidden in: whole, and cut at folders, underscores and suffixes."""
    parts = [part for part in re.split(r"[/_]+", relative) if part]
    return [relative, *parts, *(part.rsplit(".", 1)[0] for part in parts if "." in part)]


def _read(root: Path, relative: str, rules: OutputRules) -> tuple[bytes | None, Finding | None]:
    path = root / relative
    if not os.path.lexists(path):
        return None, Finding("missing", "declared but not written by the job", True)
    if os.path.realpath(path) != str(path):
        return None, Finding("file_type", "a symlink, or inside a symlinked folder: refused", True)
    info = os.lstat(path)
    if not stat.S_ISREG(info.st_mode):
        return None, Finding("file_type", "not a regular file", True)
    if info.st_nlink > 1:
        return None, Finding("file_type", "a hard link to another file: refused", True)
    if info.st_size > rules.max_bytes:
        return None, Finding("size", f"{info.st_size:,} bytes, more than the {rules.max_bytes:,} allowed", True)
    descriptor = os.open(path, os.O_RDONLY | os.O_NOFOLLOW | os.O_NONBLOCK)
    with os.fdopen(descriptor, "rb") as source:
        data = source.read(rules.max_bytes + 1)
    if len(data) > rules.max_bytes:
        return None, Finding("size", f"more than the {rules.max_bytes:,} bytes allowed", True)
    return data, None


def _check_kind(path: Path, data: bytes, output: DeclaredOutput, rules: OutputRules,
                identifiers: IdentifierIndex | None) -> KindResult:
    problem = file_type_problem(output.path, output.kind, data)
    if problem:
        return KindResult().block("file_type", problem)
    if output.kind == "table":
        return check_table(path, data, output, rules, identifiers)
    if output.kind == "notebook":
        return check_notebook(path, data, identifiers)
    if output.kind == "text":
        return check_text(path, data, identifiers)
    if path.suffix.lower() == ".png":
        return check_png(data)
    return check_svg(data, identifiers)


def _check_one(root: Path, relative: str, output: DeclaredOutput, rules: OutputRules,
               identifiers: IdentifierIndex | None, checked_dir: Path) -> CheckedOutput:
    data, refused = _read(root, relative, rules)
    if refused:
        return CheckedOutput(output.path, output.kind, False, (refused,), None, None)
    assert data is not None  # _read gives the bytes or a reason to refuse them
    result = _check_kind(root / relative, data, output, rules, identifiers)
    if result.blocked or result.write is None:
        return CheckedOutput(output.path, output.kind, False, tuple(result.findings), None, None)
    target = checked_dir / relative
    target.parent.mkdir(parents=True, exist_ok=True)
    result.write(target)
    return CheckedOutput(output.path, output.kind, True, tuple(result.findings), target, sha256_of(target))


def check_outputs(output_dir: Path, declared: Sequence[DeclaredOutput], rules: OutputRules, *,
                  identifiers: IdentifierIndex | None, checked_dir: Path) -> list[CheckedOutput]:
    """One result per declared output (in order), then one per undeclared file (never copied, never released)."""
    root = Path(output_dir).resolve()
    checked_dir = Path(checked_dir)
    checked_dir.mkdir(parents=True, exist_ok=True)
    results, seen = [], set()
    for output in declared:
        relative = _inside(output.path)
        if relative is None:
            finding = Finding("file_type", "the path must stay inside the output folder", True)
            results.append(CheckedOutput(output.path, output.kind, False, (finding,), None, None))
            continue
        if relative in seen:
            continue
        seen.add(relative)
        results.append(_check_one(root, relative, output, rules, identifiers, checked_dir))
    for number, relative in enumerate(sorted(_present(root) - seen), start=1):
        message = "written by the job but not declared: not checked, not released"
        if identifiers is not None and identifiers.occurrences(_name_parts(relative)):
            relative, message = f"(undeclared file {number})", f"{message}; its name holds a real identifier value"
        results.append(CheckedOutput(relative, "undeclared", False, (Finding("undeclared", message, False),), None,
                                     None))
    return results
