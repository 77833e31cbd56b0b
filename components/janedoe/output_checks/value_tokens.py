"""The one text form identifier values and output texts are compared in: accents dropped, lower case, cut into
tokens at spaces and punctuation that separates values (so 'José.Doe@X.org,' and 'jose.doe@x.org' meet), and the
runs of tokens (n-grams) a text holds, so a two-word name printed inside a sentence is found too."""

import numpy as np
import pyarrow as pa
import pyarrow.compute as pc

_SEPARATORS = r"[\s,;|\"'`()\[\]{}<>=:]+"
_EDGE_PUNCTUATION = ".!?*"
MAX_WORDS = 8  # identifier values longer than this are matched as whole values only, never inside a text


def as_text(values: pa.Array | pa.ChunkedArray | list) -> pa.Array:
    """Any array (or list of strings) as a string array."""
    if isinstance(values, list):
        values = pa.array(values, pa.string())
    if isinstance(values, pa.ChunkedArray):
        values = values.combine_chunks()
    if pa.types.is_dictionary(values.type):
        values = values.cast(values.type.value_type)
    if pa.types.is_large_string(values.type):
        values = values.cast(pa.string())
    if not pa.types.is_string(values.type):
        values = pc.cast(values, pa.string())
    return values


def folded(text: pa.Array) -> pa.Array:
    """Accents dropped, full-width forms and case folded."""
    text = pc.utf8_normalize(text, "NFKD")
    text = pc.replace_substring_regex(text, r"\p{M}+", "")
    return pc.utf8_lower(pc.utf8_normalize(text, "NFKC"))


def tokens(text: pa.Array) -> tuple[pa.Array, np.ndarray]:
    """The non-empty tokens of every text, flattened, and the index of the text each came from."""
    parts = pc.split_pattern_regex(folded(as_text(text)), _SEPARATORS)
    flat = pc.utf8_trim(pc.list_flatten(parts), _EDGE_PUNCTUATION)
    parents = np.asarray(pc.list_parent_indices(parts))
    keep = pc.greater(pc.utf8_length(flat), 0)
    return flat.filter(keep), parents[np.asarray(keep, dtype=bool)]


def joined_values(values: pa.Array) -> tuple[pa.Array, np.ndarray]:
    """Each non-empty value as its tokens joined by one space, and its token count."""
    flat, parents = tokens(values)
    if len(flat) == 0:
        return pa.array([], pa.string()), np.array([], dtype=np.int64)
    starts = np.flatnonzero(np.r_[True, parents[1:] != parents[:-1]])
    counts = np.diff(np.r_[starts, len(parents)])
    offsets = pa.array(np.r_[starts, len(parents)].astype(np.int32))
    return pc.binary_join(pa.ListArray.from_arrays(offsets, flat), " "), counts


def ngrams(flat: pa.Array, parents: np.ndarray, n: int) -> pa.Array:
    """Every run of n consecutive tokens of one text, joined by one space."""
    if len(flat) < n:
        return pa.array([], pa.string())
    if n == 1:
        return flat
    width = len(flat) - n + 1
    same_text = parents[: width] == parents[n - 1:]
    grams = pc.binary_join_element_wise(*(flat.slice(i, width) for i in range(n)), " ")
    return grams.filter(pa.array(same_text))
