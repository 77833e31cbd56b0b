"""Automatic checks on what a review-mode job wrote, before any person sees it (OpenSAFELY's output checking, done
by machine first): allowed file types by their bytes, size and row caps, no identifier column and no real
identifier value anywhere (keyed digests, never the values), small counts suppressed and the rest rounded,
notebook outputs stripped. Passing these checks is no formal guarantee: two reviewers still read every output.
"""

from janedoe.output_checks.count_cells import COUNT_WORDS, default_count_columns
from janedoe.output_checks.file_types import SUFFIXES
from janedoe.output_checks.identifier_columns import IDENTIFYING_KINDS, IDENTIFYING_RULES, identifier_columns
from janedoe.output_checks.identifier_index import IdentifierIndex
from janedoe.output_checks.model import KINDS, CheckedOutput, DeclaredOutput, Finding, OutputRules
from janedoe.output_checks.output_checking import check_outputs

__all__ = [
    "check_outputs",
    "DeclaredOutput",
    "OutputRules",
    "Finding",
    "CheckedOutput",
    "IdentifierIndex",
    "identifier_columns",
    "default_count_columns",
    "KINDS",
    "SUFFIXES",
    "COUNT_WORDS",
    "IDENTIFYING_RULES",
    "IDENTIFYING_KINDS",
]
