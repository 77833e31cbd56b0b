"""What every rule's implementation is: a column function fixed at build time, before any data is read."""

from dataclasses import dataclass

import numpy as np
import pyarrow as pa
from janedoe.errors import JaneDoeInputError


@dataclass
class BuildContext:
    """What a rule needs to be built: where it sits in the policy (for errors), the secret, the run's randomness."""

    where: str
    secret: bytes | None
    seed: np.random.SeedSequence
    column_type: pa.DataType

    def rng(self) -> np.random.Generator:
        return np.random.default_rng(self.seed)

    def error(self, message: str) -> JaneDoeInputError:
        return JaneDoeInputError(message, where=self.where)


class ColumnMasker:
    """Masks one column batch by batch; `output_type` is known before any data is read."""

    output_type: pa.DataType

    def apply(self, values: pa.Array) -> pa.Array:
        raise NotImplementedError


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
