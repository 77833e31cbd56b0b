"""Check digits of identifiers, vectorized: a value that has the right shape but a wrong check digit is not one.

Each function takes an Arrow string array already reduced to the identifier's characters (no spaces or dashes) and
returns a numpy bool array: True where the value has the identifier's shape and its check digit holds.
"""

import numpy as np
import pyarrow as pa
import pyarrow.compute as pc


def _shaped(values: pa.Array, pattern: str) -> np.ndarray:
    return np.asarray(pc.fill_null(pc.match_substring_regex(values, f"^(?:{pattern})$"), False), dtype=bool)


def _byte_matrix(values: pa.Array, shaped: np.ndarray, width: int, pad: str, left: bool) -> np.ndarray:
    """Rows of `width` ASCII bytes, padded with `pad` (left or right); rows that are not `shaped` are all padding."""
    text = pc.if_else(pa.array(shaped), values, pa.scalar("", pa.string())).cast(pa.string())
    text = (pc.utf8_lpad if left else pc.utf8_rpad)(text, width, pad)
    text = pa.concat_arrays([text])  # a fresh array: its buffers start at this array's first value
    offsets = np.frombuffer(text.buffers()[1], dtype=np.int32)[: len(text) + 1]
    data = np.frombuffer(text.buffers()[2], dtype=np.uint8)[offsets[0]: offsets[-1]]
    return data.reshape(len(text), width)


def luhn_valid(values: pa.Array) -> np.ndarray:
    """Payment card numbers: 12 to 19 digits whose Luhn sum is a multiple of ten."""
    shaped = _shaped(values, r"\d{12,19}")
    digits = _byte_matrix(values, shaped, 19, "0", left=True).astype(np.int64) - 48
    doubled = digits[:, -2::-2] * 2
    total = digits[:, ::-2].sum(axis=1) + (doubled - 9 * (doubled > 9)).sum(axis=1)
    return shaped & (total % 10 == 0)


def iban_valid(values: pa.Array) -> np.ndarray:
    """IBANs: country letters, two check digits, 11 to 30 letters or digits, and the whole is 1 modulo 97."""
    shaped = _shaped(values, r"[A-Z]{2}\d{2}[A-Z0-9]{11,30}")
    rotated = pc.binary_join_element_wise(pc.utf8_slice_codeunits(values, 4), pc.utf8_slice_codeunits(values, 0, 4),
                                          "")
    chars = _byte_matrix(rotated, shaped, 34, "0", left=True).astype(np.int64)  # leading zeros keep the number
    is_letter = chars >= 65
    value = np.where(is_letter, chars - 55, chars - 48)
    remainder = np.zeros(len(chars), dtype=np.int64)
    for column in range(chars.shape[1]):
        scale = np.where(is_letter[:, column], 100, 10)
        remainder = (remainder * scale + value[:, column]) % 97
    return shaped & (remainder == 1)


def nir_valid(values: pa.Array) -> np.ndarray:
    """French NIR (numéro de sécurité sociale): 13 characters then the key 97 - (number mod 97); Corsica's 2A and
    2B count as 19 and 18."""
    shaped = _shaped(values, r"[12378]\d{4}(?:\d{2}|2A|2B)\d{8}")
    body = pc.utf8_slice_codeunits(values, 0, 13)
    body = pc.replace_substring(pc.replace_substring(body, "2A", "19"), "2B", "18")
    safe = pc.if_else(pa.array(shaped), body, pa.scalar("0", pa.string()))
    number = np.asarray(pc.cast(safe, pa.int64()), dtype=np.int64)
    key = pc.if_else(pa.array(shaped), pc.utf8_slice_codeunits(values, 13), pa.scalar("0", pa.string()))
    return shaped & (97 - number % 97 == np.asarray(pc.cast(key, pa.int64()), dtype=np.int64))


_DNI_LETTERS = np.frombuffer(b"TRWAGMYFPDXBNJZSQVHLCKE", dtype=np.uint8)


def dni_valid(values: pa.Array) -> np.ndarray:
    """Spanish DNI (8 digits) and NIE (X, Y or Z then 7 digits), then the letter of the number modulo 23."""
    shaped = _shaped(values, r"[0-9XYZ]\d{7}[A-Z]")
    chars = _byte_matrix(values, shaped, 9, "0", left=True).astype(np.int64)
    lead = chars[:, 0]
    lead = np.where(lead >= 88, lead - 88, lead - 48)  # X, Y, Z count as 0, 1, 2
    number = lead * 10**7 + ((chars[:, 1:8] - 48) * 10 ** np.arange(6, -1, -1)).sum(axis=1)
    return shaped & (_DNI_LETTERS[number % 23] == chars[:, 8])


_CF_ODD = np.zeros(128, dtype=np.int64)
_CF_ODD[48:58] = [1, 0, 5, 7, 9, 13, 15, 17, 19, 21]
_CF_ODD[65:91] = [1, 0, 5, 7, 9, 13, 15, 17, 19, 21, 2, 4, 18, 20, 11, 3, 6, 8, 12, 14, 16, 10, 22, 25, 24, 23]
_CF_EVEN = np.zeros(128, dtype=np.int64)
_CF_EVEN[48:58] = np.arange(10)
_CF_EVEN[65:91] = np.arange(26)


def codice_fiscale_valid(values: pa.Array) -> np.ndarray:
    """Italian codice fiscale: 15 letters and digits in their places, then a check letter from both tables."""
    shaped = _shaped(values, r"[A-Z]{6}[0-9LMNPQRSTUV]{2}[A-EHLMPRST][0-9LMNPQRSTUV]{2}[A-Z][0-9LMNPQRSTUV]{3}[A-Z]")
    chars = _byte_matrix(values, shaped, 16, "A", left=False)
    total = _CF_ODD[chars[:, 0:15:2]].sum(axis=1) + _CF_EVEN[chars[:, 1:15:2]].sum(axis=1)
    return shaped & (total % 26 + 65 == chars[:, 15])


def bsn_valid(values: pa.Array) -> np.ndarray:
    """Dutch BSN: nine digits passing the eleven test (weights 9..2 and -1)."""
    shaped = _shaped(values, r"\d{9}")
    digits = _byte_matrix(values, shaped, 9, "0", left=True).astype(np.int64) - 48
    total = (digits * np.array([9, 8, 7, 6, 5, 4, 3, 2, -1])).sum(axis=1)
    return shaped & (total % 11 == 0) & (digits.sum(axis=1) > 0)


def us_ssn_valid(values: pa.Array) -> np.ndarray:
    """US SSN shape (no check digit exists): never area 000, 666 or 9xx, group 00 or serial 0000."""
    return _shaped(values, r"(?:[0-8]\d{2})-(?:\d{2})-(?:\d{4})") & ~_shaped(
        values, r"(?:000|666)-\d{2}-\d{4}|\d{3}-00-\d{4}|\d{3}-\d{2}-0000"
    )


def nif_pt_valid(values: pa.Array) -> np.ndarray:
    """Portuguese NIF (número de contribuinte): nine digits, the last a modulo 11 check of the first eight."""
    shaped = _shaped(values, r"[1-35689]\d{8}")
    digits = _byte_matrix(values, shaped, 9, "0", left=True).astype(np.int64) - 48
    check = 11 - (digits[:, :8] * np.arange(9, 1, -1)).sum(axis=1) % 11
    return shaped & (np.where(check >= 10, 0, check) == digits[:, 8])
