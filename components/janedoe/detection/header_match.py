"""Which kind of personal data a column's header names, and by which dictionary entry.

Headers and terms are normalised alike: Unicode compatibility form (full-width to half-width), camelCase split,
case folded (ß -> ss), accents dropped, every run of separators one space. A term then matches the header exactly,
as a run of its words, or, for terms of five letters or more, as the head or tail of a compound word
(`Kunden_Email`, `Rechnungsadresse`); a term in a script without word breaks (Japanese) matches anywhere in it.
"""

import re
import unicodedata
from dataclasses import dataclass
from functools import lru_cache

from janedoe.detection.header_terms import HEADER_TERMS, NOT_A_PERSON

_COMPOUND_MIN = 5
_PERSON_KINDS = {"name", "first_name", "last_name", "address", "email", "phone"}
_LATIN_ACCENT = re.compile(r"(?<=[a-z])[\u0300-\u036f]+")
_NO_WORD_BREAKS = re.compile(r"[\u3040-\u30ff\u3400-\u9fff\uff66-\uff9f〒]")


@dataclass(frozen=True)
class HeaderMatch:
    kind: str
    term: str  # the dictionary entry, as written there
    language: str
    how: str  # "exact", "word" or "compound"


def normalize_header(name: str) -> str:
    """'Geburts-Datum' -> 'geburts datum', 'dateOfBirth' -> 'date of birth', 'Prénom' -> 'prenom'."""
    text = unicodedata.normalize("NFKC", name)
    text = re.sub(r"([a-z0-9])([A-Z])", r"\1 \2", text)
    text = re.sub(r"([A-Z]+)([A-Z][a-z])", r"\1 \2", text)
    text = text.casefold()
    text = _LATIN_ACCENT.sub("", unicodedata.normalize("NFKD", text))  # kana keep their voicing marks
    text = unicodedata.normalize("NFKC", text)
    return " ".join(re.split(r"[\W_]+", text)).strip()


@lru_cache(maxsize=1)
def _terms() -> tuple[tuple[str, str, str, str], ...]:
    """(normalised term, kind, language, term as written), kinds in priority order."""
    return tuple(
        (normalize_header(term), kind, language, term)
        for kind, languages in HEADER_TERMS.items()
        for language, terms in languages.items()
        for term in terms
    )


_QUALITY = {"exact": 3, "head": 2, "word": 1, "compound": 1}


def match_header(name: str) -> HeaderMatch | None:
    """The best dictionary match for a header: exact beats the header's last words beats any words or compound;
    between equals, a term spelt as in the header, then the kind listed first in the dictionary."""
    words = normalize_header(name)
    if not words:
        return None
    compact = words.replace(" ", "")
    padded = f" {words} "
    names_a_thing = any(word.startswith(NOT_A_PERSON) for word in words.split())
    best: tuple[int, bool, int, HeaderMatch] | None = None
    for order, (term, kind, language, written) in enumerate(_terms()):
        how = _how(term, words, compact, padded)
        if how is None or (names_a_thing and kind in _PERSON_KINDS):
            continue
        as_written = written.casefold() in name.casefold()  # 'Téléphone' is French, though 'telephone' is English
        score = (_QUALITY[how], as_written, -order)
        if best is None or score > best[:3]:
            best = (*score, HeaderMatch(kind, written, language, "word" if how == "head" else how))
    return best[3] if best else None


def _how(term: str, words: str, compact: str, padded: str) -> str | None:
    term_compact = term.replace(" ", "")
    if compact == term_compact or words == term:
        return "exact"
    if _NO_WORD_BREAKS.search(term):
        return "word" if term_compact in compact else None
    if f" {term} " in padded:
        return "head" if padded.endswith(f" {term} ") else "word"
    if len(term_compact) >= _COMPOUND_MIN and any(
        word.startswith(term_compact) or word.endswith(term_compact) for word in words.split()
    ):
        return "compound"
    if len(term_compact) >= _COMPOUND_MIN and term_compact in compact and " " in term:
        return "compound"  # a multi-word term written as one word inside a longer header: 'customerdateofbirth'
    return None
