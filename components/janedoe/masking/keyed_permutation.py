"""keyed_permutation: a keyed bijection of integer keys, so primary and foreign keys stay unique and consistent.

Each value is permuted within its own domain: by default the integers with the same number of decimal digits and
the same sign (so 1042 maps to another 4-digit key, and every table maps 1042 the same way whatever the column's
integer width), or [min, max] when the rule gives one. Inside a domain of size N the permutation is a balanced
Feistel network on the next even bit width with cycle walking to stay below N (Black and Rogaway). The round function
is a 64-bit multiply-xorshift mixer keyed by round keys derived from the secret with HMAC: this is a format-preserving
pseudonymization of keys, vectorized with numpy, not a standardized cipher like FF1.
"""

import numpy as np
import pyarrow as pa
import pyarrow.compute as pc
from janedoe.masking.column_masker import BuildContext, ColumnMasker, null_mask
from janedoe.masking.keyed_digest import Hmac, derived_key
from janedoe.policy import KeyedPermutationRule

ROUNDS = 10
_M1 = np.uint64(0xBF58476D1CE4E5B9)
_M2 = np.uint64(0x94D049BB133111EB)


def _mix(z: np.ndarray) -> np.ndarray:
    z = z ^ (z >> np.uint64(30))
    z = z * _M1
    z = z ^ (z >> np.uint64(27))
    z = z * _M2
    return z ^ (z >> np.uint64(31))


class FeistelDomain:
    """A keyed permutation of range(size)."""

    def __init__(self, key: bytes, low: int, size: int) -> None:
        self.size = size
        bits = max(2, (size - 1).bit_length())
        bits += bits % 2
        self.half = np.uint64(bits // 2)
        self.half_mask = np.uint64((1 << (bits // 2)) - 1)
        material = Hmac(key, "sha512").digest(f"{low}:{size}".encode()) + Hmac(key, "sha512").digest(
            f"{low}:{size}:more".encode()
        )
        self.round_keys = np.frombuffer(material[: 8 * ROUNDS], dtype=">u8").astype(np.uint64)

    def _feistel(self, x: np.ndarray) -> np.ndarray:
        left, right = x >> self.half, x & self.half_mask
        for key in self.round_keys:
            left, right = right, left ^ (_mix(right ^ key) & self.half_mask)
        return (left << self.half) | right

    def permute(self, offsets: np.ndarray) -> np.ndarray:
        """Permute values in range(size) (as uint64), cycle-walking until every one lands back in range."""
        if self.size == 1:
            return offsets
        out = self._feistel(offsets)
        outside = out >= np.uint64(self.size)
        while outside.any():
            out[outside] = self._feistel(out[outside])
            outside = out >= np.uint64(self.size)
        return out


class KeyedPermutationMasker(ColumnMasker):
    def __init__(self, rule: KeyedPermutationRule, context: BuildContext) -> None:
        kind = context.column_type
        if not pa.types.is_integer(kind):
            raise context.error(f"keyed_permutation needs an integer column, not {kind}")
        self.output_type = kind
        self.info = np.iinfo(kind.to_pandas_dtype())
        self.key = derived_key(context.keyed_secret(), "keyed_permutation")
        self.domains: dict[tuple[int, int], FeistelDomain] = {}
        self.where = context.where
        self.error = context.error
        # the rule gives both min and max or neither
        self.bounds = (rule.min, rule.max) if rule.min is not None and rule.max is not None else None
        if self.bounds and (self.bounds[0] < self.info.min or self.bounds[1] > self.info.max):
            raise context.error(f"min and max must fit the column's type {kind}")

    def _domain(self, low: int, size: int) -> FeistelDomain:
        domain = self.domains.get((low, size))
        if domain is None:
            domain = self.domains[(low, size)] = FeistelDomain(self.key, low, size)
        return domain

    def apply(self, values: pa.Array) -> pa.Array:
        nulls = null_mask(values)
        if self.info.max > 2**63 - 1 and pc.any(pc.greater(values, 2**63 - 1)).as_py():
            raise self.error("keyed_permutation supports unsigned values up to 2**63 - 1")
        x = values.fill_null(0).to_numpy(zero_copy_only=False).astype(np.int64)
        out = np.empty_like(x)
        if self.bounds:
            low, high = self.bounds
            if ((x < low) | (x > high))[~nulls].any():
                raise self.error("a value lies outside the rule's [min, max]")
            out[:] = self._permute_range(x, low, high - low + 1)
        else:
            self._permute_by_digits(x, out)
        return pa.array(out.astype(self.output_type.to_pandas_dtype()), type=self.output_type,
                         mask=nulls if nulls.any() else None)

    def _permute_range(self, x: np.ndarray, low: int, size: int) -> np.ndarray:
        shift = np.uint64(low % 2**64)  # two's complement: wrapping uint64 arithmetic gives exact offsets
        offsets = x.view(np.uint64) - shift
        return (self._domain(low, size).permute(offsets) + shift).view(np.int64)

    def _permute_by_digits(self, x: np.ndarray, out: np.ndarray) -> None:
        if (x == np.iinfo(np.int64).min).any():
            raise self.error("keyed_permutation cannot map the smallest 64-bit integer")
        magnitude = np.abs(x)
        negative = x < 0
        digits = np.ones(len(x), dtype=np.int64)
        for power in range(1, 19):
            digits += magnitude >= 10**power
        for sign in (False, True):
            for count in np.unique(digits[negative == sign]):
                rows = (digits == count) & (negative == sign)
                low = (1 if sign else 0) if count == 1 else 10 ** (int(count) - 1)
                high = 10 ** int(count) - 1
                limit = -int(self.info.min) if sign else int(self.info.max)
                high = min(high, limit, 2**63 - 1)
                size = high - low + 1
                domain_low = -low - 1 if sign else low  # negatives get their own keys
                permuted = self._domain(domain_low, size).permute((magnitude[rows] - low).astype(np.uint64))
                result = permuted.astype(np.int64) + low
                out[rows] = -result if sign else result
