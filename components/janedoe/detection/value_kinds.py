"""What a column's values are, whatever its header says: each detector gives the share of sampled values it accepts.

Identifiers with a check digit count only when the check holds, so a column of random 16-digit numbers is not taken
for card numbers. Dates count as birth dates when they give plausible ages for people of many ages (order dates,
all recent, do not).
"""

import datetime as dt
from collections.abc import Callable
from dataclasses import dataclass

import numpy as np
import pyarrow as pa
import pyarrow.compute as pc
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
from janedoe.detection.free_text import as_string
from janedoe.detection.person_names import name_lists
from janedoe.detection.span_patterns import EMAIL, IP_ADDRESS, PHONE

VALUE_SHARE = 0.8  # a column is of a kind when this share of its non-empty sampled values is
SAMPLE_LIMIT = 2000


@dataclass(frozen=True)
class ValueMatch:
    kind: str
    detector: str  # what accepted the values, for the reason a reviewer reads
    share: float
    sampled: int
    detail: str = ""  # e.g. which identifier: 'French NIR'; 'ISO dates' for a text birth date


def _full(pattern: str) -> Callable[[pa.Array, pa.Array], np.ndarray]:
    def accepts(text: pa.Array, compact: pa.Array) -> np.ndarray:
        return np.asarray(pc.match_substring_regex(text, f"^(?:{pattern})$"), dtype=bool)

    return accepts


def _on_compact(check: Callable[[pa.Array], np.ndarray]) -> Callable[[pa.Array, pa.Array], np.ndarray]:
    return lambda text, compact: check(compact)


# (kind, detector as a reviewer reads it, identifier, test over (trimmed text, upper-cased text without separators))
_TEXT_DETECTORS: list[tuple[str, str, str, Callable[[pa.Array, pa.Array], np.ndarray]]] = [
    ("email", "the email address pattern", "", _full(EMAIL)),
    ("iban", "the IBAN mod-97 check", "", _on_compact(iban_valid)),
    ("card", "the Luhn check of card numbers", "", _on_compact(luhn_valid)),
    ("national_id", "the French NIR key", "fr_nir", _on_compact(nir_valid)),
    ("national_id", "the Spanish DNI/NIE letter", "es_dni", _on_compact(dni_valid)),
    ("national_id", "the Italian codice fiscale check letter", "it_cf", _on_compact(codice_fiscale_valid)),
    ("national_id", "the Dutch BSN eleven test", "nl_bsn", _on_compact(bsn_valid)),
    ("national_id", "the US SSN shape", "us_ssn", lambda text, compact: us_ssn_valid(text)),
    ("tax_id", "the Portuguese NIF check digit", "pt_nif", _on_compact(nif_pt_valid)),
    ("ip", "the IPv4 address pattern", "", _full(IP_ADDRESS)),
    ("phone", "the phone number patterns", "", _full(PHONE)),
]


def detect_value_kind(values: pa.Array) -> ValueMatch | None:
    """The first detector that accepts at least VALUE_SHARE of the sampled values, if any."""
    if isinstance(values, pa.ChunkedArray):
        values = values.combine_chunks()
    if pa.types.is_dictionary(values.type):
        values = values.cast(values.type.value_type)
    values = values.drop_null()[:SAMPLE_LIMIT]
    if pa.types.is_date(values.type) or pa.types.is_timestamp(values.type):
        return _birth_dates(values, "")
    if not (pa.types.is_string(values.type) or pa.types.is_large_string(values.type)):
        return None
    text = pc.utf8_trim_whitespace(as_string(values))
    text = text.filter(pc.greater(pc.utf8_length(text), 0))
    if len(text) == 0:
        return None
    compact = pc.replace_substring_regex(pc.utf8_upper(text), r"[\s\-.]", "")
    for kind, detector, detail, accepts in _TEXT_DETECTORS:
        share = float(accepts(text, compact).mean())
        if share >= VALUE_SHARE:
            return ValueMatch(kind, detector, share, len(text), detail)
    return _person_names(text) or _text_birth_dates(text)


def _person_names(text: pa.Array) -> ValueMatch | None:
    """Values of up to five words, at least half of them known first or last names; lower-case particles ('van',
    'de', 'dos') do not count."""
    first, last = name_lists()
    words = pc.utf8_split_whitespace(text)
    parents = np.asarray(pc.list_parent_indices(words))
    flat = pc.list_flatten(words)
    lower = np.asarray(pc.match_substring_regex(flat, r"^\p{Ll}"), dtype=bool)
    particle = np.asarray(pc.is_in(flat, value_set=pa.array(_PARTICLES, pa.string())), dtype=bool)
    prose = np.bincount(parents, weights=lower & ~particle, minlength=len(text)) > 0  # 'wrote from', 'call back'
    counted = ~lower
    flat, parents = flat.filter(pa.array(counted)), parents[counted]
    counts = np.where(prose, 0, np.bincount(parents, minlength=len(text)))
    in_first = np.asarray(pc.fill_null(pc.is_in(flat, value_set=first), False), dtype=bool)
    in_last = np.asarray(pc.fill_null(pc.is_in(flat, value_set=last), False), dtype=bool)
    known = np.bincount(parents, weights=in_first | in_last, minlength=len(text))
    looks_named = (counts > 0) & (known * 2 >= counts) & (counts <= 5)
    share = float(looks_named.mean())
    if share < VALUE_SHARE:
        return None
    single = counts == 1
    if single.mean() >= VALUE_SHARE:
        first_share = np.bincount(parents, weights=in_first & ~in_last, minlength=len(text))[single].mean()
        last_share = np.bincount(parents, weights=in_last & ~in_first, minlength=len(text))[single].mean()
        if first_share > last_share and first_share >= 0.5:
            return ValueMatch("first_name", "the first-name list", share, len(text))
        if last_share > first_share and last_share >= 0.5:
            return ValueMatch("last_name", "the last-name list", share, len(text))
    return ValueMatch("name", "the person-name list", share, len(text))


# A tuple, made an Arrow array where it is used: pa.array of a list at import would import pandas (pandas_guard.py).
_PARTICLES = ("van", "de", "der", "den", "von", "zu", "da", "das", "do", "dos", "di", "del", "della", "la",
              "le", "du", "des", "ten", "ter", "te", "y", "e", "'t", "d'")

# text date layouts, tried in turn; the first that reads most values wins
_DATE_FORMATS = (("%Y-%m-%d", "iso"), ("%d.%m.%Y", "dmy"), ("%d/%m/%Y", "dmy"), ("%Y/%m/%d", "ymd"),
                 ("%m/%d/%Y", "mdy"), ("%d-%m-%Y", "dmy"))


def _text_birth_dates(text: pa.Array) -> ValueMatch | None:
    for layout, order in _DATE_FORMATS:
        head = pc.utf8_slice_codeunits(text, 0, 10)
        parsed = pc.strptime(head, format=layout, unit="s", error_is_null=True)
        if 1 - parsed.null_count / len(text) >= VALUE_SHARE:
            return _birth_dates(parsed.drop_null(), order, len(text))
    return None


def _birth_dates(dates: pa.Array, layout: str, sampled: int | None = None) -> ValueMatch | None:
    """Ages between 0 and 110 for nearly all, a median adult age and a spread of ages: people's birth dates."""
    if len(dates) < 3:
        return None
    years = np.asarray(pc.year(dates), dtype=np.float64)
    ages = dt.date.today().year - years
    plausible = (ages >= 0) & (ages <= 110)
    share = float(plausible.sum() / (sampled or len(dates)))
    if share < VALUE_SHARE or not 18 <= np.median(ages) <= 90 or np.std(ages) < 5:
        return None
    return ValueMatch("birth_date", "birth-date plausibility (ages 0-110, median adult, varied)", share,
                      sampled or len(dates), layout)
