"""One column's verdict: which kind of personal data it holds, the rule to suggest, and why.

This is the one detection function behind `policy init` and `db scan`. Evidence from the values that a check digit
or a strict pattern backs (emails, IBANs, cards, national ids, IP addresses) outweighs the header; otherwise a header
in the dictionaries decides, and the values decide when the header says nothing. Text that is prose rather than one
value per cell is searched for personal spans instead.
"""

from dataclasses import dataclass, field
from typing import Any

import numpy as np
import pyarrow as pa
import pyarrow.compute as pc
from janedoe.detection.free_text import as_string, span_shares
from janedoe.detection.header_match import HeaderMatch, match_header
from janedoe.detection.suggested_rules import rule_for
from janedoe.detection.value_kinds import SAMPLE_LIMIT, ValueMatch, detect_value_kind

_STRONG_VALUE_KINDS = {"email", "iban", "card", "national_id", "tax_id", "ip"}
_NAME_KINDS = {"name", "first_name", "last_name"}
SPAN_SHARE = 0.05  # free text is personal when this share of its values (and at least two) hold a personal span
_PROSE_WORDS = 3  # the median number of words of a column of prose


@dataclass(frozen=True)
class ColumnDetection:
    kind: str | None  # None: nothing personal found
    rule: dict[str, Any] = field(default_factory=lambda: {"mask": "keep"})
    reason: str = "nothing personal in the name or the sampled values"


def detect_column(name: str, values: pa.Array | None, arrow_type: pa.DataType | None = None) -> ColumnDetection:
    """The kind, rule and reason for a column from its header and a sample of its values (None: no sample)."""
    arrow_type = arrow_type if arrow_type is not None else (values.type if values is not None else pa.string())
    header = match_header(name)
    value = detect_value_kind(values) if values is not None and len(values) else None
    spans = _personal_spans(values) if values is not None and value is None else None
    if value is not None and (value.kind in _STRONG_VALUE_KINDS or header is None):
        found = _suggest(value.kind, arrow_type, value.detail, [_value_reason(value), _header_reason(header)])
        if found:
            return found
    if header is not None:
        if header.kind == "free_text" or spans:
            found = _suggest("free_text", arrow_type, "", [_header_reason(header), _spans_reason(spans)])
            if found and header.kind == "free_text":
                return found
        detail = value.detail if value is not None and _same_family(value.kind, header.kind) else ""
        agreeing = _value_reason(value) if value is not None and _same_family(value.kind, header.kind) else None
        found = _suggest(header.kind, arrow_type, detail, [_header_reason(header), agreeing])
        if found:
            return found
    if spans:
        found = _suggest("free_text", arrow_type, "", [_spans_reason(spans)])
        if found:
            return found
    if header is not None:
        return ColumnDetection(None, {"mask": "keep"}, f"{_header_reason(header)}, but its type {arrow_type} "
                               "suits no suggested rule: review by hand")
    if pa.types.is_date(arrow_type) or pa.types.is_timestamp(arrow_type):
        return ColumnDetection(None, {"mask": "keep"}, "a date not named or shaped as personal; consider noise "
                               "with an interval")
    return ColumnDetection(None)


def _suggest(kind: str, arrow_type: pa.DataType, detail: str, reasons: list[str | None]) -> ColumnDetection | None:
    rule = rule_for(kind, arrow_type, detail)
    if rule is None:
        return None
    return ColumnDetection(kind, rule, "; ".join(r for r in reasons if r))


def _same_family(value_kind: str, header_kind: str) -> bool:
    return value_kind == header_kind or (value_kind in _NAME_KINDS and header_kind in _NAME_KINDS)


def _header_reason(header: HeaderMatch | None) -> str | None:
    if header is None:
        return None
    how = {"exact": "is", "word": "contains", "compound": "contains"}[header.how]
    return f"header {how} {header.term!r} ({header.language} {header.kind.replace('_', ' ')})"


def _value_reason(value: ValueMatch | None) -> str | None:
    if value is None:
        return None
    return f"{value.share:.0%} of {value.sampled} sampled values pass {value.detector}"


def _spans_reason(spans: dict[str, float] | None) -> str | None:
    if not spans:
        return None
    found = ", ".join(f"{entity.replace('_', ' ')} {share:.0%}" for entity, share in spans.items())
    return f"free text holding personal spans (share of sampled values: {found})"


def _personal_spans(values: pa.Array) -> dict[str, float] | None:
    """entity -> share, for a column of prose whose values hold personal spans often enough; else None."""
    if isinstance(values, pa.ChunkedArray):
        values = values.combine_chunks()
    kind = values.type.value_type if pa.types.is_dictionary(values.type) else values.type
    if not (pa.types.is_string(kind) or pa.types.is_large_string(kind)):
        return None
    text = as_string(values).drop_null()[:SAMPLE_LIMIT]
    if len(text) == 0:
        return None
    words = np.asarray(pc.list_value_length(pc.utf8_split_whitespace(text)))
    if np.median(words) < _PROSE_WORDS and not _has_spaced_values(words):
        return None
    shares = span_shares(text)
    found = {e: s for e, s in sorted(shares.items(), key=lambda item: -item[1])
             if s >= SPAN_SHARE and s * len(text) >= 2}
    return found or None


def _has_spaced_values(words: np.ndarray) -> bool:
    """Remarks that are often empty or short still count when a fair share of them are sentences."""
    return float((words >= _PROSE_WORDS).mean()) >= 0.25
