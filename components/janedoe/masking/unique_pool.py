"""The endless, well-formed candidates unique pseudonyms are chosen from: the keyed Faker pool, then tiers of values
derived from it that keep the pool's form.

Tier 0 is the de-duplicated pool itself. Tier t >= 1 derives one value from each pool entry, by the entry's form:
an email gets a keyed tag in its local part (`maria.schmidt.7k2q@example.org`), a value with 4 or more digits (phone,
id) gets keyed digits in place of its own, a capitalised word or name gets a double-barrelled last part from another
entry (`Maria Schmidt-Weber`, `Anna-Lena`), anything else a keyed `.tag` suffix. A slot's text depends on the
(keyed) pool and the slot alone, never on the values being masked; only the slots values propose are ever built.
"""

import numpy as np
import pyarrow as pa
import pyarrow.compute as pc
from janedoe.masking.keyed_digest import Hmac, digest_words

_EMAIL = r"^[^@\s]+@[^@\s]+$"
_NAME = r"^(?P<head>(?:\p{Lu}[^\d@]*)?\p{Lu}\p{Ll}+)(?P<tail>(?:[^\p{L}\d@.][^\d@]*)?)$"
_LAST_NAME_WORD = r"^.*(?P<word>\p{Lu}\p{Ll}+)(?:[^\p{L}.][^\d@]*)?$"
_BASE36 = np.frombuffer(b"0123456789abcdefghijklmnopqrstuvwxyz", dtype=np.uint8)


def mix64(values: np.ndarray) -> np.ndarray:
    """SplitMix64's finalizer: a bijective scramble of 64-bit words (public; the words it scrambles are keyed)."""
    z = np.asarray(values, dtype=np.uint64).copy()
    with np.errstate(over="ignore"):
        z ^= z >> np.uint64(30)
        z *= np.uint64(0xBF58476D1CE4E5B9)
        z ^= z >> np.uint64(27)
        z *= np.uint64(0x94D049BB133111EB)
        z ^= z >> np.uint64(31)
    return z


def slot_hashes(tiers: np.ndarray, entries: np.ndarray, salt: int) -> np.ndarray:
    """One keyed 64-bit hash per (tier, entry) slot."""
    tiers = np.asarray(tiers, dtype=np.uint64)
    return mix64(mix64(np.uint64(salt) ^ tiers) ^ np.asarray(entries, dtype=np.uint64))


class CandidatePool:
    """The texts of candidate slots (tier, entry) and their HMAC words: the same HMAC as the masked values', so "this
    candidate is the value's own text" and "these two candidates are the same text" are word comparisons. Each pool
    entry's form and pieces are parsed once; a derived text is then a few takes and joins."""

    def __init__(self, pool: pa.Array, hmac: Hmac) -> None:
        self.pool = pool.cast(pa.string())
        self.size = len(pool)
        self.hmac = hmac
        self.words = digest_words(hmac.digests(self.pool))
        self.salt = int(digest_words(np.frombuffer(hmac.digest(b"janedoe\0unique tiers"), np.uint8)[None, :])[0])
        self.email = pc.match_substring_regex(self.pool, _EMAIL).fill_null(False)
        digits = pc.greater_equal(pc.count_substring_regex(self.pool, r"\d"), 4).fill_null(False)
        self.digits = pc.and_(digits, pc.invert(self.email)).to_numpy(zero_copy_only=False)
        parts = pc.extract_regex(self.pool, r"^(?P<local>[^@]*)@(?P<domain>.*)$")
        self.email_head = pc.binary_join_element_wise(pc.struct_field(parts, "local"), ".", "")
        self.email_tail = pc.binary_join_element_wise("@", pc.struct_field(parts, "domain"), "")
        name = pc.extract_regex(self.pool, _NAME)
        self.name_head = pc.binary_join_element_wise(pc.struct_field(name, "head"), "-", "")
        self.name_tail = pc.struct_field(name, "tail")
        self.last_word = pc.struct_field(pc.extract_regex(self.pool, _LAST_NAME_WORD), "word")

    def candidates(self, tiers: np.ndarray, entries: np.ndarray) -> tuple[pa.Array, np.ndarray]:
        """The texts and HMAC words of these slots."""
        if not len(tiers) or not tiers.any():
            return self.pool.take(pa.array(entries)), self.words[entries]
        texts = self.derive(entries, slot_hashes(tiers, entries, self.salt))
        return texts, digest_words(self.hmac.digests(texts))

    def derive(self, entries: np.ndarray, hashes: np.ndarray) -> pa.Array:
        """A new text of each entry's own form, drawn from its slot hash (names: another entry's last word)."""
        at = pa.array(entries)
        tags = _base36_tags(hashes)
        tagged_email = pc.binary_join_element_wise(self.email_head.take(at), tags, self.email_tail.take(at), "")
        partner = self.last_word.take(pa.array((hashes >> np.uint64(20)) % np.uint64(self.size)))
        other = self.last_word.take(pa.array((hashes >> np.uint64(40)) % np.uint64(self.size)))
        same = pc.equal(partner, self.last_word.take(at)).fill_null(False)
        partner = pc.if_else(same, other, partner)  # not `Myers-Myers`
        barrelled = pc.binary_join_element_wise(self.name_head.take(at), partner, self.name_tail.take(at), "")
        bases = self.pool.take(at)
        suffixed = pc.binary_join_element_wise(bases, tags, ".")
        derived = pc.if_else(self.email.take(at), tagged_email, pc.coalesce(barrelled, suffixed))
        digits = self.digits[entries]
        if not digits.any():
            return derived
        return pc.replace_with_mask(derived, pa.array(digits), _keyed_digits(bases.filter(digits), hashes[digits]))


def _base36_tags(hashes: np.ndarray, width: int = 4) -> pa.Array:
    """A `width`-character base-36 tag per hash, as one Arrow string array."""
    count = len(hashes)
    chars = np.empty((count, width), dtype=np.uint8)
    rest = hashes.copy()
    for position in range(width):
        chars[:, position] = _BASE36[(rest % np.uint64(36)).astype(np.int64)]
        rest //= np.uint64(36)
    offsets = np.arange(0, (count + 1) * width, width, dtype=np.int32)
    return pa.StringArray.from_buffers(count, pa.py_buffer(offsets), pa.py_buffer(chars.tobytes()))


def _keyed_digits(texts: pa.Array, hashes: np.ndarray) -> pa.Array:
    """Each text with every ASCII digit replaced by a digit drawn from its slot hash and position (same length)."""
    texts = pa.concat_arrays([texts.cast(pa.string())])
    _, offset_buffer, data_buffer = texts.buffers()
    offsets = np.frombuffer(offset_buffer, dtype=np.int32)[: len(texts) + 1]
    data = np.frombuffer(data_buffer, dtype=np.uint8)[offsets[0] : offsets[-1]].copy()
    owner = np.repeat(np.arange(len(texts)), np.diff(offsets))
    is_digit = (data >= 48) & (data <= 57)
    with np.errstate(over="ignore"):
        draws = mix64(hashes[owner] + np.arange(len(data), dtype=np.uint64) - offsets[owner].astype(np.uint64))
    data[is_digit] = (48 + draws[is_digit] % np.uint64(10)).astype(np.uint8)
    return pa.StringArray.from_buffers(
        len(texts), pa.py_buffer((offsets - offsets[0]).astype(np.int32)), pa.py_buffer(data.tobytes())
    )
