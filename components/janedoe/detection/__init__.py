"""Finding personal data: column headers in eight languages, values by pattern and check digit, person names by a
name list, and personal spans inside free text (pattern-based; no named-entity model).

`detect_column` is the one verdict `policy init` and `db scan` both use; `redact_spans` is what the `redact` rule runs.
"""

from janedoe.detection.check_digits import (
    bsn_valid,
    codice_fiscale_valid,
    dni_valid,
    iban_valid,
    luhn_valid,
    nif_pt_valid,
    nir_valid,
    us_ssn_valid,
)
from janedoe.detection.column_detection import ColumnDetection, detect_column
from janedoe.detection.free_text import DEFAULT_REPLACEMENTS, redact_spans, span_shares
from janedoe.detection.header_match import HeaderMatch, match_header, normalize_header
from janedoe.detection.span_patterns import ENTITIES
from janedoe.detection.suggested_rules import RULES
from janedoe.detection.value_kinds import ValueMatch, detect_value_kind

__all__ = [
    "detect_column",
    "ColumnDetection",
    "match_header",
    "normalize_header",
    "HeaderMatch",
    "detect_value_kind",
    "ValueMatch",
    "redact_spans",
    "span_shares",
    "ENTITIES",
    "DEFAULT_REPLACEMENTS",
    "RULES",
    "luhn_valid",
    "iban_valid",
    "nir_valid",
    "dni_valid",
    "codice_fiscale_valid",
    "bsn_valid",
    "us_ssn_valid",
    "nif_pt_valid",
]
