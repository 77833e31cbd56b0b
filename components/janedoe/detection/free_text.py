"""Personal spans in free text: which share of values hold each kind, and the text with those spans replaced.

Everything runs as Arrow kernels over the whole array: one regex pass per entity, then names by cutting the text
into words, looking every capitalised word up in the name list at once (a hash lookup, not a regex of thousands of
names, which RE2 runs hundreds of times slower) and joining the words back. Names in capitals ('JASON') pass.
"""

import re
from functools import lru_cache

import numpy as np
import pyarrow as pa
import pyarrow.compute as pc
from janedoe.detection.person_names import all_names
from janedoe.detection.span_patterns import ENTITIES, SPAN_PATTERNS

DEFAULT_REPLACEMENTS = {entity: f"[{entity.upper()}]" for entity in ENTITIES}
_WORD_BREAK = r"[^\p{L}\p{M}]+"
_NO_WORD_BREAKS = r"[\x{3040}-\x{30ff}\x{3400}-\x{9fff}]"
_WORD = r"[\p{Ll}\p{M}]*\p{Lu}[\p{L}\p{M}]*"  # words with a capital: the only ones a listed name can be


def as_string(values: pa.Array) -> pa.Array:
    if isinstance(values, pa.ChunkedArray):
        values = values.combine_chunks()
    if pa.types.is_dictionary(values.type):
        values = values.cast(values.type.value_type)
    return values if pa.types.is_string(values.type) else values.cast(pa.string())


def span_shares(values: pa.Array) -> dict[str, float]:
    """entity -> share of the non-null values that contain at least one span of it."""
    text = as_string(values).drop_null()
    if len(text) == 0:
        return {}
    shares = {
        entity: pc.sum(pc.match_substring_regex(text, pattern)).as_py() / len(text)
        for entity, pattern in SPAN_PATTERNS.items()
    }
    shares["name"] = len(_rows_with_names(text)) / len(text)
    return shares


def _rows_with_names(text: pa.Array) -> np.ndarray:
    words = pc.split_pattern_regex(text, _WORD_BREAK)
    flat = pc.list_flatten(words)
    parents = np.asarray(pc.list_parent_indices(words))
    hits = np.asarray(pc.fill_null(pc.is_in(flat, value_set=_latin_names()), False), dtype=bool)
    rows = set(np.unique(parents[hits]).tolist())
    cjk = _cjk_name_pattern()
    if cjk and pc.any(pc.match_substring_regex(text, _NO_WORD_BREAKS)).as_py():
        rows |= set(np.flatnonzero(np.asarray(pc.fill_null(pc.match_substring_regex(text, cjk), False))).tolist())
    return np.array(sorted(rows), dtype=np.int64)


def redact_spans(values: pa.Array, entities: tuple[str, ...] = ENTITIES,
                 replacements: dict[str, str] | None = None) -> pa.Array:
    """The text with every span of `entities` replaced (by '[EMAIL]', '[NAME]', ... unless `replacements` says);
    NULLs stay NULL."""
    text = as_string(values)
    chosen = {**DEFAULT_REPLACEMENTS, **(replacements or {})}
    for entity, pattern in SPAN_PATTERNS.items():
        if entity in entities:
            text = pc.replace_substring_regex(text, pattern, _literal(chosen[entity]))
    if "name" in entities:
        text = _redact_names(text, chosen["name"])
    return text


def _redact_names(text: pa.Array, replacement: str) -> pa.Array:
    """Every word that is a listed name becomes `replacement`: the text is cut into alternating words and
    non-words (a NUL around each word, then a split on NUL), the pieces are looked up in the name list at once, and
    each value's pieces are joined back."""
    marked = pc.replace_substring_regex(pc.replace_substring(text, "\0", ""), _WORD, "\0\\0\0")
    pieces = pc.split_pattern(marked, "\0")
    flat = pc.list_flatten(pieces)
    is_name = pc.fill_null(pc.is_in(flat, value_set=_latin_names()), False)
    if pc.any(is_name).as_py():
        flat = pc.if_else(is_name, pa.scalar(replacement, pa.string()), flat)
        pieces = pa.ListArray.from_arrays(pieces.offsets, flat, mask=pc.is_null(pieces))
        text = pc.binary_join(pieces, "")
    cjk = _cjk_name_pattern()
    has_cjk = pc.fill_null(pc.match_substring_regex(text, _NO_WORD_BREAKS), False)
    if cjk and pc.any(has_cjk).as_py():  # only the rows in Japanese script go through the kanji-name pattern
        replaced = pc.replace_substring_regex(text.filter(has_cjk), cjk, _literal(replacement))
        text = pc.replace_with_mask(text, has_cjk, replaced)
    return text


def _alternation(names: list[str]) -> str:
    return "|".join(re.escape(name) for name in sorted(names, key=len, reverse=True))


def _literal(replacement: str) -> str:
    return replacement.replace("\\", "\\\\")


@lru_cache(maxsize=1)
def _latin_names() -> pa.Array:
    names = all_names()
    return names.filter(pc.invert(pc.match_substring_regex(names, _NO_WORD_BREAKS)))


@lru_cache(maxsize=1)
def _cjk_name_pattern() -> str:
    """Japanese names of two characters or more (single kanji are words too), longest first."""
    names = all_names()
    cjk = names.filter(pc.match_substring_regex(names, _NO_WORD_BREAKS)).to_pylist()
    return _alternation([n for n in cjk if len(n) >= 2])
