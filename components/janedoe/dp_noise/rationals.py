"""Turning user numbers into exact fractions the samplers can use with int64 arithmetic."""

import math
from fractions import Fraction
from numbers import Rational

from janedoe.errors import JaneDoeInputError


def as_fraction(value, name: str) -> Fraction:
    """The exact rational a user meant: a float becomes the short decimal it prints as (0.1 -> 1/10)."""
    if isinstance(value, bool):
        raise JaneDoeInputError(f"{name} must be a number", where=name)
    if isinstance(value, Rational):
        fraction = Fraction(value)
    elif isinstance(value, float):
        if not math.isfinite(value):
            raise JaneDoeInputError(f"{name} must be finite", where=name)
        fraction = Fraction(repr(value))
    elif isinstance(value, str):
        try:
            fraction = Fraction(value.strip())
        except (ValueError, ZeroDivisionError):
            raise JaneDoeInputError(f"{name} is not a number", where=name) from None
    else:
        try:
            return as_fraction(float(value), name)
        except (TypeError, ValueError):
            raise JaneDoeInputError(f"{name} must be a number", where=name) from None
    return fraction


def positive_fraction(value, name: str) -> Fraction:
    fraction = as_fraction(value, name)
    if fraction <= 0:
        raise JaneDoeInputError(f"{name} must be positive", where=name)
    return fraction


def round_up_dyadic(value: Fraction, max_denominator_bits: int) -> Fraction:
    """The smallest multiple of 2^-bits that is >= value: rounding a noise scale up only adds privacy."""
    if value.denominator <= (1 << max_denominator_bits):
        return value
    grid = 1 << max_denominator_bits
    return Fraction(-((-value.numerator * grid) // value.denominator), grid)
