"""What every rule's implementation is: a column function fixed at build time, before any data is read."""

import secrets
from dataclasses import dataclass

import numpy as np
import pyarrow as pa
from janedoe.errors import JaneDoeInputError
from janedoe.masking.keyed_digest import derived_key
from janedoe.masking.keyed_draws import Draws, FreshDraws, KeyedDraws


@dataclass
class BuildContext:
    """What a rule needs to be built: where it sits in the policy (for errors), the secret, the run's seed."""

    where: str
    secret: bytes | None
    seed: int | None
    column_type: pa.DataType
    table: str = ""
    column: str = ""
    stream: str = ""  # one fresh, seeded stream per name (a Spark engine names one per partition)

    def draws(self, rule) -> Draws:
        """The rule's randomness: keyed by the secret (and the seed), or fresh when the rule says `fresh: true`."""
        if rule.fresh and self.seed is None:
            return FreshDraws(secrets.token_bytes(32))  # a key of this run only: other draws every run
        if not self.secret:
            needs = "a seed for a fresh rule" if rule.fresh else "a random rule's keyed draws"
            raise self.error(f"{needs} needs the secret (a seed alone can be guessed)")
        purpose = f"draws\0{self.table}\0{self.column}\0{rule.model_dump_json()}\0{self.seed}"
        key = derived_key(self.secret, purpose)
        if rule.fresh:
            return FreshDraws(derived_key(key, f"stream\0{self.stream}") if self.stream else key)
        return KeyedDraws(key)

    def error(self, message: str) -> JaneDoeInputError:
        return JaneDoeInputError(message, where=self.where)

    def keyed_secret(self) -> bytes:
        """The secret a keyed rule (hash, pseudonymize, keyed_permutation) is built with; callers load it first
        (require_secret), so a missing one here is still a one-line error, not a crash inside the HMAC."""
        if self.secret is None:
            raise self.error("this rule is keyed: it needs the secret")
        return self.secret


class ColumnMasker:
    """Masks one column batch by batch; `output_type` is known before any data is read.

    A masker whose draws follow another column's values (a rule's `row_key`) names it in `identity_column`; the table
    masker then calls `apply_rows` with that column's values of the same rows.
    """

    output_type: pa.DataType
    identity_column: str | None = None
    fills_nulls = False  # True: NULLs are masked too, so an all-NULL batch still goes through `apply`

    def apply(self, values: pa.Array) -> pa.Array:
        raise NotImplementedError

    def apply_rows(self, values: pa.Array, identity: pa.Array) -> pa.Array:
        return self.apply(values)


def is_text(kind: pa.DataType) -> bool:
    return pa.types.is_string(kind) or pa.types.is_large_string(kind)


def is_number(kind: pa.DataType) -> bool:
    return pa.types.is_integer(kind) or pa.types.is_floating(kind) or pa.types.is_decimal(kind)


def is_date_or_time(kind: pa.DataType) -> bool:
    return pa.types.is_date(kind) or pa.types.is_timestamp(kind)


def null_mask(values: pa.Array) -> np.ndarray:
    """True where the value is null, as a numpy bool array."""
    if values.null_count == 0:
        return np.zeros(len(values), dtype=bool)
    return np.asarray(values.is_null().to_numpy(zero_copy_only=False), dtype=bool)
