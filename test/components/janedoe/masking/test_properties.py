"""Property tests: the privacy claims of the rules, over generated inputs."""

import math

import pyarrow as pa
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from .helpers import mask_column

SETTINGS = settings(max_examples=40, deadline=None, suppress_health_check=[HealthCheck.too_slow])

# Personal-looking values that contain a digit, so no realistic Faker name can equal one by chance.
_characters = st.characters(blacklist_categories=("Cs",), blacklist_characters="*")
identifiers = st.lists(
    st.text(alphabet=_characters, min_size=1, max_size=20).map(lambda text: f"{text}7"),
    min_size=1,
    max_size=40,
)
emails = st.lists(
    st.tuples(st.from_regex(r"[a-z0-9._]{3,12}", fullmatch=True), st.from_regex(r"[a-z0-9-]{3,10}", fullmatch=True),
              st.sampled_from(["com", "org", "fr", "co.uk"])).map(lambda parts: f"{parts[0]}@{parts[1]}.{parts[2]}"),
    min_size=1,
    max_size=40,
)


@SETTINGS
@given(identifiers)
def test_no_original_value_survives_keyed_rules(values):
    for rule in ({"mask": "hash"}, {"mask": "pseudonymize", "kind": "name"}, {"mask": "fake", "kind": "name"}):
        out = mask_column(pa.array(values), rule).to_pylist()
        assert not set(out) & set(values)


@SETTINGS
@given(identifiers)
def test_no_original_value_survives_partial(values):
    out = mask_column(pa.array(values), {"mask": "partial", "prefix": 2, "padding": "***", "suffix": 2}).to_pylist()
    assert not set(out) & set(values)


@SETTINGS
@given(emails)
def test_no_original_email_survives_partial_email(values):
    out = mask_column(pa.array(values), {"mask": "partial_email"}).to_pylist()
    assert not set(out) & set(values)
    assert all(masked.count("@") == 1 and "******" in masked for masked in out)


@SETTINGS
@given(identifiers, st.binary(min_size=16, max_size=40), st.binary(min_size=16, max_size=40))
def test_pseudonyms_depend_on_value_and_key_only(values, key, other_key):
    rule = {"mask": "pseudonymize", "kind": "last_name", "pool_size": 300}
    first = mask_column(pa.array(values), rule, secret=key, seed=1, table="t", column="a").to_pylist()
    second = mask_column(pa.array(list(reversed(values))), rule, secret=key, seed=2, table="u", column="b")
    assert list(reversed(second.to_pylist())) == first
    mapping: dict = {}
    for value, pseudonym in zip(values, first, strict=True):
        assert mapping.setdefault(value, pseudonym) == pseudonym
    if key != other_key and len(set(values)) >= 20:
        others = mask_column(pa.array(values), rule, secret=other_key).to_pylist()
        assert sum(a != b for a, b in zip(first, others, strict=True)) >= len(values) // 2


@SETTINGS
@given(
    st.lists(st.floats(min_value=-1e12, max_value=1e12, allow_nan=False), min_size=1, max_size=50),
    st.floats(min_value=0.001, max_value=0.9),
)
def test_noise_stays_within_its_ratio(values, ratio):
    out = mask_column(pa.array(values, pa.float64()), {"mask": "noise", "ratio": ratio}, seed=None).to_pylist()
    for original, noisy in zip(values, out, strict=True):
        assert abs(noisy - original) <= ratio * abs(original) * (1 + 1e-12) + 1e-300


@SETTINGS
@given(st.lists(st.integers(min_value=-(2**40), max_value=2**40), min_size=1, max_size=50),
       st.floats(min_value=0.001, max_value=0.9))
def test_integer_noise_stays_within_its_ratio(values, ratio):
    out = mask_column(pa.array(values, pa.int64()), {"mask": "noise", "ratio": ratio}, seed=None).to_pylist()
    for original, noisy in zip(values, out, strict=True):
        assert isinstance(noisy, int)
        assert abs(noisy - original) <= ratio * abs(original) + 1e-9


@SETTINGS
@given(st.lists(st.integers(min_value=-(10**12), max_value=10**12), min_size=1, max_size=50),
       st.integers(min_value=1, max_value=1000))
def test_generalized_range_contains_the_original(values, step):
    out = mask_column(pa.array(values, pa.int64()), {"mask": "generalize", "step": step}).to_pylist()
    for original, label in zip(values, out, strict=True):
        low_text, high_text = label[0] + label[1:].split("-", 1)[0], label[1:].split("-", 1)[1]
        low, high = int(low_text), int(high_text)
        assert low <= original <= high and high - low == step - 1 and low % step == 0


@SETTINGS
@given(st.lists(st.floats(min_value=-1e9, max_value=1e9, allow_nan=False), min_size=1, max_size=50),
       st.sampled_from([0.5, 1, 2.5, 10, 1000]))
def test_generalized_float_range_contains_the_original(values, step):
    out = mask_column(pa.array(values, pa.float64()), {"mask": "generalize", "step": step}).to_pylist()
    for original, label in zip(values, out, strict=True):
        low, high = (float(part) for part in label.strip("[)").split(", "))
        assert low <= original < high or math.isclose(original, high)
