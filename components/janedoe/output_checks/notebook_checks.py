"""A notebook output: every string in it (sources, outputs, metadata) scanned for real identifiers before anything is
stripped, then the checked copy keeps only the cells' sources: outputs, execution counts, attachments and metadata
(which widgets and tools fill with data) are gone. Reviewers read the code; results come as declared outputs."""

import json
from pathlib import Path

from janedoe.output_checks.identifier_index import IdentifierIndex
from janedoe.output_checks.kind_result import KindResult
from janedoe.output_checks.text_checks import identifier_lines
from janedoe.tabular import write_text_atomic

_KEPT_NOTEBOOK_METADATA = ("kernelspec", "language_info")


def _strings(document) -> list[str]:
    """Every string value in a JSON document (iteratively: a deep document cannot exhaust the stack)."""
    found, pending = [], [document]
    while pending:
        item = pending.pop()
        if isinstance(item, str):
            found.append(item)
        elif isinstance(item, dict):
            pending.extend(item.values())
            found.extend(key for key in item if isinstance(key, str))
        elif isinstance(item, list):
            pending.extend(item)
    return found


def _stripped(notebook: dict) -> tuple[dict, int]:
    cells, outputs = [], 0
    for cell in notebook["cells"]:
        kept = {"cell_type": cell.get("cell_type", "code"), "metadata": {}, "source": cell.get("source", "")}
        if "id" in cell:
            kept["id"] = cell["id"]
        if kept["cell_type"] == "code":
            outputs += len(cell.get("outputs") or [])
            kept.update(outputs=[], execution_count=None)
        cells.append(kept)
    metadata = notebook.get("metadata")
    if not isinstance(metadata, dict):
        metadata = {}
    return {
        "cells": cells,
        "metadata": {key: metadata[key] for key in _KEPT_NOTEBOOK_METADATA if key in metadata},
        "nbformat": notebook.get("nbformat", 4),
        "nbformat_minor": notebook.get("nbformat_minor", 5),
    }, outputs


def check_notebook(path: Path, data: bytes, identifiers: IdentifierIndex | None) -> KindResult:
    result = KindResult()
    try:
        notebook = json.loads(data)
    except (ValueError, RecursionError):
        return result.block("file_type", "not a readable notebook (malformed JSON)")
    if not (isinstance(notebook, dict) and isinstance(notebook.get("cells"), list)
            and all(isinstance(cell, dict) for cell in notebook["cells"])):
        return result.block("file_type", "not a notebook (no list of cells)")
    found = identifier_lines([line for text in _strings(notebook) for line in text.splitlines()], identifiers)
    if found:
        result.block("identifier_values", f"{found} real identifier value(s) in the notebook (sources or outputs)")
    checked, outputs = _stripped(notebook)
    if outputs:
        result.note("notebook_outputs", f"{outputs} cell output(s), execution counts and metadata stripped")
    if not result.blocked:
        text = json.dumps(checked, ensure_ascii=False, indent=1) + "\n"
        result.write = lambda target: write_text_atomic(text, target)
    return result
