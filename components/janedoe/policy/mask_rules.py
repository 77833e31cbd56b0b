"""The masking rules a column can have, one model per rule, named after PostgreSQL Anonymizer's functions.

`MaskRule` is a union discriminated on the `mask` field, so an unknown rule name or parameter is a validation error.
"""

import datetime as dt
import re
from functools import cache
from typing import Annotated, Any, Literal, get_args

from janedoe.policy.mask_conditions import Condition
from pydantic import (
    BaseModel,
    ConfigDict,
    Field,
    TypeAdapter,
    ValidationError,
    field_validator,
    model_serializer,
    model_validator,
)
from pydantic_core import PydanticCustomError

# Months and years as their Gregorian averages (PostgreSQL Anonymizer's dnoise(x, '2 years') moves a date by up to
# the interval); a shift is a whole number of days for dates, ticks for timestamps.
_SECONDS_PER_UNIT = {"second": 1, "minute": 60, "hour": 3600, "day": 86400, "week": 7 * 86400,
                     "month": 30.436875 * 86400, "year": 365.2425 * 86400}
INTERVAL_PATTERN = re.compile(
    r"^\s*(\d+(?:\.\d+)?)\s*(second|minute|hour|day|week|month|year)s?\s*$", re.IGNORECASE
)


class _Rule(BaseModel):
    """`when:` applies the rule only to rows where the condition holds (or is NULL: fail closed); the other rows keep
    their value or take the `otherwise:` rule (anon.ternary). Both are left out of dumps when unset, so a rule's
    keyed draws do not change."""

    model_config = ConfigDict(extra="forbid", frozen=True)
    when: Condition | None = None
    # A MaskRule, validated by `_rule_as_written` through the union's one adapter. Typed as the union, every rule's
    # schema held all 21 rules and built them again (a third of a second of every start-up).
    otherwise: Any = None

    @field_validator("otherwise", mode="before")
    @classmethod
    def _rule_as_written(cls, value):
        if value is None:
            return None
        try:
            return _mask_rule_adapter().validate_python({"mask": value} if isinstance(value, str) else value)
        except ValidationError as error:
            first = error.errors()[0]
            path = ".".join(str(part) for part in first["loc"][1:])  # without the union's tag
            message = f"{path}: {first['msg']}" if path else first["msg"]
            raise PydanticCustomError("otherwise_rule", "{message}", {"message": message}) from None

    @model_validator(mode="after")
    def _otherwise_needs_when(self):
        if self.otherwise is not None and self.when is None:
            raise ValueError("otherwise needs when")
        if self.otherwise is not None and self.otherwise.when is not None:
            raise ValueError("the otherwise rule cannot have its own when")
        return self

    @model_serializer(mode="wrap")
    def _without_unset_condition(self, handler):
        dumped = handler(self)
        if isinstance(dumped, dict):
            for name in ("when", "otherwise"):
                if dumped.get(name) is None:
                    dumped.pop(name, None)
        return dumped


class DrawnRule(_Rule):
    """A rule that draws randomness. Draws are keyed: a pseudorandom function of the secret, the table, the column, the
    rule and the row's identity (the `row_key` column's value, else the value itself), so repeating a run, a copy or
    an export gives every row the same draw and averaging repeated outputs learns nothing beyond one output.
    `fresh: true` draws anew on every run instead (PostgreSQL Anonymizer's behaviour): N outputs of one row then
    average towards its original value, so use it only for outputs that are released once.
    """

    fresh: bool = False
    row_key: str | None = Field(default=None, min_length=1)


class PartialRule(_Rule):
    """anon.partial: keep `prefix` first and `suffix` last characters, put `padding` between."""

    mask: Literal["partial"]
    prefix: int = Field(default=0, ge=0)
    padding: str = "xxxx"
    suffix: int = Field(default=0, ge=0)


class PartialEmailRule(_Rule):
    """anon.partial_email: 'daamien@gmail.com' -> 'da******@gm******.com'."""

    mask: Literal["partial_email"]


FakeArgument = str | int | float | bool | list[str | int | float | bool]


class FakeRule(DrawnRule):
    """A realistic value from a Faker provider, drawn per row identity (never the row's own value). `args` are the
    provider's keyword arguments (`paragraph` with `nb_sentences: 2`); list-valued providers (`words`) are joined with
    `separator`."""

    mask: Literal["fake"]
    kind: str = Field(min_length=1)
    locale: str = "en_US"
    pool_size: int = Field(default=4096, ge=1, le=1_000_000)
    args: dict[str, FakeArgument] = Field(default_factory=dict)
    separator: str = " "

    @field_validator("args")
    @classmethod
    def _argument_names(cls, value: dict) -> dict:
        for name in value:
            if not name.isidentifier() or name.startswith("_"):
                raise ValueError(f"{name!r} is not an argument name")
        return value


class PseudonymizeRule(_Rule):
    """A realistic value chosen by a keyed HMAC of the input: same input, key, kind -> same output everywhere."""

    mask: Literal["pseudonymize"]
    kind: str = Field(min_length=1)
    locale: str = "en_US"
    unique: bool = False
    pool_size: int = Field(default=4096, ge=1, le=1_000_000)
    row_key: str | None = Field(default=None, min_length=1)  # pick by another column's value (anon.pseudo_email(login))


_HEX_DIGITS = {"md5": 32, "sha1": 40, "sha224": 56, "sha256": 64, "sha384": 96, "sha512": 128}


class HashRule(_Rule):
    """Hex HMAC of the value with the secret (anon.digest / anon.hmac); never an unkeyed hash. `length` keeps the
    first hex digits (`left(anon.hash(x), 12)`): shorter hashes collide sooner (about 2^(2*length) values)."""

    mask: Literal["hash"]
    algorithm: Literal["md5", "sha1", "sha224", "sha256", "sha384", "sha512"] = "sha256"
    length: int | None = Field(default=None, ge=1)

    @model_validator(mode="after")
    def _length_fits_the_digest(self):
        if self.length is not None and self.length > _HEX_DIGITS[self.algorithm]:
            raise ValueError(f"length must be at most {_HEX_DIGITS[self.algorithm]} for {self.algorithm}")
        return self


class NoiseRule(DrawnRule):
    """Numbers times (1 +- ratio); dates and times shifted by up to +- interval (e.g. '10 days')."""

    mask: Literal["noise"]
    ratio: float | None = Field(default=None, gt=0)
    interval: str | None = None

    @field_validator("interval")
    @classmethod
    def _interval_is_readable(cls, value: str | None) -> str | None:
        if value is not None and not INTERVAL_PATTERN.match(value):
            raise ValueError(
                "interval must look like '10 days' (units: seconds, minutes, hours, days, weeks, months, years)"
            )
        return value

    @property
    def interval_seconds(self) -> float | None:
        """The interval as seconds, so the masking engine does not parse policy text itself."""
        if self.interval is None:
            return None
        match = INTERVAL_PATTERN.match(self.interval)
        assert match is not None  # the field's validator refused any other text
        return float(match.group(1)) * _SECONDS_PER_UNIT[match.group(2).lower()]

    @model_validator(mode="after")
    def _one_of_ratio_or_interval(self):
        if (self.ratio is None) == (self.interval is None):
            raise ValueError("noise needs exactly one of ratio (numbers) or interval (dates and times)")
        return self


class RandomIntRule(DrawnRule):
    """A keyed random integer in [min, max] (anon.random_int_between): plausible, unrelated to the value."""

    mask: Literal["random_int"]
    min: int
    max: int

    @model_validator(mode="after")
    def _ordered(self):
        if self.min > self.max:
            raise ValueError("min must not be greater than max")
        return self


class RandomDateRule(DrawnRule):
    """A keyed random date or time in [min, max]; no default range, since only the policy knows what is plausible."""

    mask: Literal["random_date"]
    min: dt.datetime | dt.date
    max: dt.datetime | dt.date

    @model_validator(mode="after")
    def _ordered(self):
        if _as_datetime(self.min) > _as_datetime(self.max):
            raise ValueError("min must not be later than max")
        return self


class RandomInRule(DrawnRule):
    """A keyed random pick from `values` (anon.random_in): keeps an enum column's labels valid."""

    mask: Literal["random_in"]
    values: list[str | int | float | bool] = Field(min_length=1)


class RandomStringRule(DrawnRule):
    """anon.random_string(n): `length` letters and digits."""

    mask: Literal["random_string"]
    length: int = Field(ge=1, le=1024)


class RandomIdRule(DrawnRule):
    """anon.random_id(): a positive bigint drawn per row (collisions are possible: use keyed_permutation for keys)."""

    mask: Literal["random_id"]


class RandomIdIntRule(DrawnRule):
    """anon.random_id_int(): a positive 32-bit integer drawn per row."""

    mask: Literal["random_id_int"]


class RandomPhoneRule(DrawnRule):
    """anon.random_phone(prefix): the prefix, then `digits` random digits ('0' and 9 digits by default)."""

    mask: Literal["random_phone"]
    prefix: str = Field(default="0", max_length=32)
    digits: int = Field(default=9, ge=1, le=32)


class GeneralizeRule(_Rule):
    """Numbers to ranges of width `step` ('30-39', '[2.5, 5)'); dates to their day, ISO week, month, year, decade or
    century. `as: range` writes PostgreSQL range literals instead ('[30,40)', '[1987-03-01,1987-04-01)'), as
    anon.generalize_int4range / numrange / daterange return."""

    model_config = ConfigDict(extra="forbid", frozen=True, populate_by_name=True, serialize_by_alias=True)
    mask: Literal["generalize"]
    step: int | float | None = Field(default=None, gt=0)
    to: Literal["day", "week", "month", "year", "decade", "century"] | None = None
    as_: Literal["text", "range"] = Field(default="text", alias="as")

    @model_validator(mode="after")
    def _one_of_step_or_to(self):
        if (self.step is None) == (self.to is None):
            raise ValueError("generalize needs exactly one of step (numbers) or to (dates)")
        return self


class ShuffleRule(DrawnRule):
    """Permute the column's values, in an order keyed by the rows' identities: over the whole column when a file or
    database is masked (two passes, bounded memory), within each batch when the API serves a dataset."""

    mask: Literal["shuffle"]


class ConstantRule(_Rule):
    """Every value becomes `value`; NULLs stay NULL unless `fill_nulls: true` (PostgreSQL Anonymizer's
    `MASKED WITH VALUE`, which replaces them too, so a NULL no longer tells that a value was missing)."""

    mask: Literal["constant"]
    value: bool | int | float | dt.datetime | dt.date | str
    fill_nulls: bool = False


class NullRule(_Rule):
    """Every value becomes NULL: what a column written without a rule gets, so nothing is kept by omission."""

    mask: Literal["null"]


class KeepRule(_Rule):
    """The value as it is: must be written out, so keeping a column is always a decision someone made."""

    mask: Literal["keep"] = "keep"


class RegexReplaceRule(_Rule):
    """Replace every match of an RE2 pattern; the replacement may use \\1 for groups."""

    mask: Literal["regex_replace"]
    pattern: str = Field(min_length=1)
    replacement: str = ""

    @field_validator("pattern")
    @classmethod
    def _pattern_compiles(cls, value: str) -> str:
        import pyarrow as pa
        import pyarrow.compute as pc

        try:
            pc.replace_substring_regex(pa.array([""], pa.string()), value, "")
        except (pa.ArrowInvalid, pa.ArrowNotImplementedError):
            raise ValueError("pattern is not a valid RE2 regular expression") from None
        return value


RedactEntity = Literal["email", "iban", "card", "national_id", "ip", "phone", "name"]


class RedactRule(_Rule):
    """Replace the personal spans inside free text ('[EMAIL]', '[PHONE]', '[NAME]', ...) and keep the rest, so notes
    stay useful instead of being nulled. Spans are found by patterns and a name list, not a language model: review a
    sample of the output. `replacement` is one text for every entity, or a text per entity."""

    mask: Literal["redact"]
    entities: list[RedactEntity] = Field(
        default_factory=lambda: list(get_args(RedactEntity)), min_length=1
    )
    replacement: str | dict[RedactEntity, str] | None = None


class KeyedPermutationRule(_Rule):
    """A keyed bijection of integer keys: unique keys stay unique and map the same way in every table."""

    mask: Literal["keyed_permutation"]
    min: int | None = None
    max: int | None = None

    @model_validator(mode="after")
    def _both_or_neither(self):
        if (self.min is None) != (self.max is None):
            raise ValueError("give both min and max, or neither")
        if self.min is not None and self.min > self.max:
            raise ValueError("min must not be greater than max")
        return self


def _as_datetime(value: dt.date) -> dt.datetime:
    return value if isinstance(value, dt.datetime) else dt.datetime(value.year, value.month, value.day)


MaskRule = Annotated[
    PartialRule
    | PartialEmailRule
    | FakeRule
    | PseudonymizeRule
    | HashRule
    | NoiseRule
    | RandomIntRule
    | RandomDateRule
    | RandomInRule
    | RandomStringRule
    | RandomIdRule
    | RandomIdIntRule
    | RandomPhoneRule
    | GeneralizeRule
    | ShuffleRule
    | ConstantRule
    | NullRule
    | KeepRule
    | RegexReplaceRule
    | RedactRule
    | KeyedPermutationRule,
    Field(discriminator="mask"),
]


@cache
def _mask_rule_adapter() -> TypeAdapter:
    """The MaskRule union's validator, built on first use from the already built rules."""
    return TypeAdapter(MaskRule)


RULE_NAMES = (
    "partial",
    "partial_email",
    "fake",
    "pseudonymize",
    "hash",
    "noise",
    "random_int",
    "random_date",
    "random_in",
    "random_string",
    "random_id",
    "random_id_int",
    "random_phone",
    "generalize",
    "shuffle",
    "constant",
    "null",
    "keep",
    "regex_replace",
    "redact",
    "keyed_permutation",
)
