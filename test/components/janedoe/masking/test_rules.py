import datetime as dt
import hashlib
import hmac
import re

import numpy as np
import pyarrow as pa
import pytest
from faker import Faker
from janedoe.errors import JaneDoeInputError
from janedoe.masking import build_table_masker

from .helpers import SECRET, mask_column, policy_for

PERSONAL = pa.array(["Ada Lovelace", None, "Grace Hopper", "Ünïcødé Nàme 日本", "Ada Lovelace", ""])


def test_partial_is_postgresql_anonymizer_partial():
    out = mask_column(pa.array(["abcdefgh"]), {"mask": "partial", "prefix": 1, "padding": "xxxx", "suffix": 3})
    assert out.to_pylist() == ["axxxxfgh"]


def test_partial_counts_characters_not_bytes_and_hides_short_values():
    rule = {"mask": "partial", "prefix": 2, "padding": "**", "suffix": 1}
    out = mask_column(pa.array(["日本語テキスト", "abc", "ab", None]), rule)
    assert out.to_pylist() == ["日本**ト", "**", "**", None]


def test_partial_email_is_postgresql_anonymizer_partial_email():
    out = mask_column(pa.array(["daamien@gmail.com", None, "no-at-sign"]), {"mask": "partial_email"})
    assert out.to_pylist() == ["da******@gm******.com", None, "no******@******."]


def test_hash_is_hmac_of_the_text_with_the_secret():
    values = ["alice@example.com", None, "bob", "alice@example.com", "ünï"]
    out = mask_column(pa.array(values), {"mask": "hash"})
    expected = [None if v is None else hmac.new(SECRET, v.encode(), hashlib.sha256).hexdigest() for v in values]
    assert out.to_pylist() == expected
    out512 = mask_column(pa.array(values), {"mask": "hash", "algorithm": "sha512"})
    assert out512[0].as_py() == hmac.new(SECRET, values[0].encode(), hashlib.sha512).hexdigest()


def test_hash_of_numbers_uses_their_text_so_tables_agree():
    as_int = mask_column(pa.array([42, 7], pa.int32()), {"mask": "hash"})
    as_text = mask_column(pa.array(["42", "7"]), {"mask": "hash"})
    assert as_int.to_pylist() == as_text.to_pylist()


def test_hash_with_a_long_secret_is_still_hmac():
    secret = b"k" * 200
    out = mask_column(pa.array(["x"]), {"mask": "hash"}, secret=secret)
    assert out[0].as_py() == hmac.new(secret, b"x", hashlib.sha256).hexdigest()


@pytest.mark.parametrize(
    "rule",
    [
        {"mask": "partial", "prefix": 1, "padding": "x", "suffix": 1},
        {"mask": "partial_email"},
        {"mask": "fake", "kind": "name"},
        {"mask": "pseudonymize", "kind": "name"},
        {"mask": "pseudonymize", "kind": "name", "unique": True},
        {"mask": "hash"},
        {"mask": "random_in", "values": ["a", "b"]},
        {"mask": "random_int", "min": 1, "max": 3},
        {"mask": "random_date", "min": "2020-01-01", "max": "2020-12-31"},
        {"mask": "shuffle"},
        {"mask": "constant", "value": "X"},
        {"mask": "keep"},
        {"mask": "regex_replace", "pattern": "[aeiou]", "replacement": "_"},
    ],
)
def test_nulls_stay_null(rule):
    out = mask_column(PERSONAL, rule)
    assert out.is_null().to_pylist() == PERSONAL.is_null().to_pylist()


def test_all_null_column_stays_null_with_a_stable_type():
    out = mask_column(pa.array([None, None], pa.string()), {"mask": "pseudonymize", "kind": "name"})
    assert out.null_count == 2


def test_type_preservation():
    ints = pa.array([10, 20, None], pa.int32())
    assert mask_column(ints, {"mask": "noise", "ratio": 0.2}).type == pa.int32()
    assert mask_column(ints, {"mask": "keep"}).type == pa.int32()
    assert mask_column(ints, {"mask": "null"}).type == pa.int32()
    assert mask_column(ints, {"mask": "shuffle"}).type == pa.int32()
    assert mask_column(ints, {"mask": "constant", "value": 5}).to_pylist() == [5, 5, None]
    assert mask_column(ints, {"mask": "random_int", "min": 0, "max": 9}).type == pa.int32()
    assert mask_column(ints, {"mask": "keyed_permutation"}).type == pa.int32()
    floats = pa.array([1.5, None], pa.float32())
    assert mask_column(floats, {"mask": "noise", "ratio": 0.1}).type == pa.float32()
    dates = pa.array([dt.date(1990, 5, 17), None])
    assert mask_column(dates, {"mask": "noise", "interval": "10 days"}).type == pa.date32()
    assert mask_column(dates, {"mask": "fake", "kind": "date_of_birth"}).type == pa.date32()
    stamps = pa.array([dt.datetime(2020, 1, 1, 12)], pa.timestamp("us"))
    assert mask_column(stamps, {"mask": "noise", "interval": "3 hours"}).type == pa.timestamp("us")
    assert mask_column(pa.array(["x"]), {"mask": "fake", "kind": "random_int"}).type == pa.string()


def test_noise_on_numbers_stays_within_ratio():
    x = np.linspace(-1e6, 1e6, 5001)
    out = np.array(mask_column(pa.array(x), {"mask": "noise", "ratio": 0.1}).to_pylist())
    assert np.all(np.abs(out - x) <= 0.1 * np.abs(x) + 1e-9)
    assert np.mean(out != x) > 0.99
    ints = np.arange(-5000, 5000)
    out = np.array(mask_column(pa.array(ints), {"mask": "noise", "ratio": 0.05}).to_pylist())
    assert np.all(np.abs(out - ints) <= 0.05 * np.abs(ints))


def test_noise_on_dates_stays_within_interval():
    days = [dt.date(2000, 1, 1) + dt.timedelta(days=i) for i in range(2000)]
    out = mask_column(pa.array(days), {"mask": "noise", "interval": "10 days"}).to_pylist()
    shifts = [(o - d).days for o, d in zip(out, days, strict=True)]
    assert min(shifts) == -10 and max(shifts) == 10


def test_noise_needs_a_suitable_column():
    with pytest.raises(JaneDoeInputError, match="tables.t.columns.c: noise with a ratio needs a numeric column"):
        mask_column(pa.array(["a"]), {"mask": "noise", "ratio": 0.1})
    with pytest.raises(JaneDoeInputError, match="shorter than one day"):
        mask_column(pa.array([dt.date(2020, 1, 1)]), {"mask": "noise", "interval": "3 hours"})


def test_random_int_covers_its_inclusive_range():
    out = mask_column(pa.array(np.arange(4000, dtype=np.int64)), {"mask": "random_int", "min": 3, "max": 7})
    assert set(out.to_pylist()) == {3, 4, 5, 6, 7}


def test_random_date_stays_in_range():
    rule = {"mask": "random_date", "min": "2020-02-01", "max": "2020-02-10"}
    out = mask_column(pa.array([f"x{i}" for i in range(2000)]), rule).to_pylist()
    assert set(out) == {dt.date(2020, 2, d) for d in range(1, 11)}


def test_random_in_draws_the_listed_values():
    out = mask_column(pa.array([f"secret {i}" for i in range(500)]), {"mask": "random_in", "values": ["a", "b", "c"]})
    out = out.to_pylist()
    assert set(out) == {"a", "b", "c"}


def test_shuffle_is_a_permutation_that_keeps_null_positions():
    values = pa.array([None if i % 7 == 0 else i for i in range(1000)])
    out = mask_column(values, {"mask": "shuffle"}).to_pylist()
    assert sorted(v for v in out if v is not None) == sorted(v for v in values.to_pylist() if v is not None)
    assert [v is None for v in out] == [v is None for v in values.to_pylist()]
    assert out != values.to_pylist()


def test_generalize_numbers_to_ranges():
    out = mask_column(pa.array([34, 30, 39, -1, None]), {"mask": "generalize", "step": 10})
    assert out.to_pylist() == ["30-39", "30-39", "30-39", "-10--1", None]
    out = mask_column(pa.array([2.5, 7.25]), {"mask": "generalize", "step": 5})
    assert out.to_pylist() == ["[0, 5)", "[5, 10)"]


def test_generalize_dates_to_levels():
    dates = pa.array([dt.date(1987, 3, 15), None, dt.date(2001, 12, 31)])
    assert mask_column(dates, {"mask": "generalize", "to": "year"}).to_pylist() == ["1987", None, "2001"]
    assert mask_column(dates, {"mask": "generalize", "to": "month"}).to_pylist() == ["1987-03", None, "2001-12"]
    assert mask_column(dates, {"mask": "generalize", "to": "decade"}).to_pylist() == ["1980-1989", None, "2000-2009"]
    text = pa.array(["1987-03-15", "2001-12-31"])
    assert mask_column(text, {"mask": "generalize", "to": "year"}).to_pylist() == ["1987", "2001"]
    with pytest.raises(JaneDoeInputError, match="needs dates"):
        mask_column(pa.array(["yesterday"]), {"mask": "generalize", "to": "year"})


def test_regex_replace_agrees_with_python_re():
    values = ["call 555-1234 now", "no digits", "1 2 3"]
    out = mask_column(pa.array(values), {"mask": "regex_replace", "pattern": r"\d", "replacement": "#"})
    assert out.to_pylist() == [re.sub(r"\d", "#", v) for v in values]


def test_constant_keeps_column_type_when_it_can():
    assert mask_column(pa.array(["a", None]), {"mask": "constant", "value": 7}).to_pylist() == ["7", None]
    dates = pa.array([dt.date(1990, 1, 1)])
    assert mask_column(dates, {"mask": "constant", "value": "2000-01-01"}).to_pylist() == [dt.date(2000, 1, 1)]


def test_fake_draws_real_provider_values_seeded_per_run():
    values = pa.array([f"{i:03d}-00-0000" for i in range(300)])
    first = mask_column(values, {"mask": "fake", "kind": "ssn"}, seed=5).to_pylist()
    assert all(re.fullmatch(r"\d{3}-\d{2}-\d{4}", v) for v in first)
    assert not set(first) & set(values.to_pylist())
    assert mask_column(values, {"mask": "fake", "kind": "ssn"}, seed=5).to_pylist() == first
    assert mask_column(values, {"mask": "fake", "kind": "ssn"}, seed=6).to_pylist() != first
    assert len(set(first)) > 250


def test_fake_locale_is_used():
    out = mask_column(pa.array(["x"] * 50), {"mask": "fake", "kind": "city", "locale": "de_DE"}, seed=3).to_pylist()
    german = Faker("de_DE")
    cities = set(german.city() for _ in range(3000))
    assert sum(city in cities for city in out) > 25


def test_unknown_faker_provider_or_locale_is_an_input_error():
    with pytest.raises(JaneDoeInputError, match="tables.t.columns.c: unknown Faker provider 'nonsense'"):
        mask_column(pa.array(["x"]), {"mask": "fake", "kind": "nonsense"})
    with pytest.raises(JaneDoeInputError, match="unknown Faker locale"):
        mask_column(pa.array(["x"]), {"mask": "pseudonymize", "kind": "name", "locale": "xx_XX"})
    with pytest.raises(JaneDoeInputError, match="not a Faker provider usable"):
        mask_column(pa.array(["x"]), {"mask": "fake", "kind": "seed"})


def test_pseudonymize_is_deterministic_and_keyed():
    values = pa.array([f"person {i}" for i in range(200)] * 2)
    first = mask_column(values, {"mask": "pseudonymize", "kind": "name"}, seed=1).to_pylist()
    again = mask_column(values, {"mask": "pseudonymize", "kind": "name"}, seed=99, table="other", column="x")
    assert again.to_pylist() == first
    assert first[:200] == first[200:]
    rule = {"mask": "pseudonymize", "kind": "name"}
    other_key = mask_column(values, rule, secret=b"another key of 16+ bytes").to_pylist()
    assert sum(a != b for a, b in zip(first, other_key, strict=True)) > 0.95 * len(first)
    fake = Faker("en_US")
    fake.seed_instance(0)
    assert all(len(name.split()) >= 2 for name in first)


def test_pseudonymize_unique_gives_distinct_outputs_even_past_the_pool():
    values = pa.array([f"customer {i}" for i in range(400)])
    rule = {"mask": "pseudonymize", "kind": "first_name", "unique": True, "pool_size": 50}
    out = mask_column(values, rule, secret=b"unique test key, 16+ bytes").to_pylist()
    assert len(set(out)) == 400
    again = mask_column(values, rule, secret=b"unique test key, 16+ bytes").to_pylist()
    assert again == out


def test_rules_that_need_the_secret_refuse_to_build_without_it():
    for rule in ({"mask": "hash"}, {"mask": "pseudonymize", "kind": "name"}, {"mask": "keyed_permutation"}):
        with pytest.raises(JaneDoeInputError, match="needs a secret: set the environment variable JANEDOE_SECRET"):
            mask_column(pa.array([1]), rule, secret=None)


def test_unknown_columns_follow_the_policy_default():
    schema = pa.schema([("c", pa.string()), ("extra", pa.int64())])
    batch = pa.record_batch([pa.array(["a"]), pa.array([5])], schema=schema)
    with pytest.raises(JaneDoeInputError, match="tables.t.columns.extra: the input has a column the policy"):
        build_table_masker(policy_for({"c": {"mask": "keep"}}), "t", schema, secret=None)
    kept = build_table_masker(policy_for({"c": {"mask": "keep"}}, default="keep"), "t", schema, secret=None)
    assert kept.mask_batch(batch).column("extra").to_pylist() == [5]
    nulled = build_table_masker(policy_for({"c": {"mask": "keep"}}, default="null"), "t", schema, secret=None)
    assert nulled.mask_batch(batch).column("extra").to_pylist() == [None]


def test_policy_column_missing_from_input_and_unknown_table():
    schema = pa.schema([("c", pa.string())])
    with pytest.raises(JaneDoeInputError, match="tables.t.columns.gone: column named by the policy is not in"):
        build_table_masker(policy_for({"c": {"mask": "keep"}, "gone": {"mask": "keep"}}), "t", schema, secret=None)
    with pytest.raises(JaneDoeInputError, match="table 'u' is not in the policy"):
        build_table_masker(policy_for({"c": {"mask": "keep"}}), "u", schema, secret=None)


def test_rules_argument_overrides_the_policy_rules():
    schema = pa.schema([("c", pa.string())])
    from janedoe.policy import parse_mask_rule

    masker = build_table_masker(
        policy_for({"c": {"mask": "keep"}}), "t", schema, secret=SECRET, rules={"c": parse_mask_rule("hash")}
    )
    out = masker.mask_batch(pa.record_batch({"c": pa.array(["v"])})).column(0)
    assert out[0].as_py() == hmac.new(SECRET, b"v", hashlib.sha256).hexdigest()


def test_hash_of_mostly_distinct_values_with_nulls():
    values = [None if i % 5 == 0 else f"key-{i}" for i in range(3000)]
    out = mask_column(pa.array(values), {"mask": "hash"}).to_pylist()
    expected = [None if v is None else hmac.new(SECRET, v.encode(), hashlib.sha256).hexdigest() for v in values]
    assert out == expected


@pytest.mark.parametrize("algorithm", ["md5", "sha1", "sha224", "sha256", "sha384", "sha512"])
def test_hash_is_the_keyed_hmac_of_each_algorithm_and_length_keeps_its_first_hex_digits(algorithm):
    out = mask_column(pa.array(["alice@example.org", None]), {"mask": "hash", "algorithm": algorithm}).to_pylist()
    assert out == [hmac.new(SECRET, b"alice@example.org", algorithm).hexdigest(), None]
    for length in (1, 11, 12):
        cut = mask_column(pa.array(["alice@example.org"]), {"mask": "hash", "algorithm": algorithm, "length": length})
        assert cut.to_pylist() == [out[0][:length]]


def test_noise_in_months_and_years_moves_dates_within_the_interval_and_uses_it():
    days = pa.array(np.full(5000, 18_000, dtype=np.int32)).cast(pa.date32())
    identity = pa.array(np.arange(5000))
    batch = pa.record_batch({"id": identity, "d": days})
    for interval, reach in (("2 years", 730), ("3 months", 91)):
        policy = policy_for({"id": "keep", "d": {"mask": "noise", "interval": interval, "row_key": "id"}})
        out = build_table_masker(policy, "t", batch.schema, secret=SECRET).mask_batch(batch).column("d")
        shift = out.cast(pa.int32()).to_numpy() - 18_000
        assert np.abs(shift).max() <= reach + 1 and np.abs(shift).max() >= 0.95 * reach


def test_generalize_to_iso_week_and_century():
    dates = pa.array([dt.date(2021, 1, 3), dt.date(2021, 1, 4), dt.date(1899, 12, 31), None])
    assert mask_column(dates, {"mask": "generalize", "to": "week"}).to_pylist() == [
        "2020-W53", "2021-W01", "1899-W52", None]
    assert mask_column(dates, {"mask": "generalize", "to": "century"}).to_pylist() == [
        "2000-2099", "2000-2099", "1800-1899", None]


@pytest.mark.parametrize("rule", [{"mask": "partial_email"}, {"mask": "random_date", "min": "2020-01-01",
                                                               "max": "2020-12-31"}])
def test_rules_that_do_not_suit_an_integer_column_are_refused(rule):
    with pytest.raises(JaneDoeInputError, match="needs a .*text column, not int64"):
        mask_column(pa.array([1, 2, 3]), rule)


def test_random_string_is_letters_and_digits_of_the_length_drawn_per_row():
    values = pa.array([f"v{i}" for i in range(3000)] + [None])
    out = mask_column(values, {"mask": "random_string", "length": 12}).to_pylist()
    assert out[-1] is None and all(re.fullmatch(r"[A-Za-z0-9]{12}", text) for text in out[:-1])
    assert len(set(out[:-1])) == 3000
    counts = np.bincount(np.frombuffer("".join(out[:-1]).encode(), dtype=np.uint8), minlength=128)
    letters = counts[np.frombuffer(b"ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789", np.uint8)]
    assert letters.min() > 0.7 * letters.mean() and letters.max() < 1.3 * letters.mean()
    assert mask_column(values, {"mask": "random_string", "length": 12}).to_pylist() == out  # keyed: repeatable


def test_random_phone_is_the_prefix_and_digits():
    out = mask_column(pa.array(["a", "b", None]), {"mask": "random_phone", "prefix": "+33 6"}).to_pylist()
    assert out[2] is None and all(re.fullmatch(r"\+33 6[0-9]{9}", text) for text in out[:2]) and out[0] != out[1]


@pytest.mark.parametrize(("rule", "kind", "high"), [("random_id", pa.int64(), 2**63 - 1),
                                                     ("random_id_int", pa.int32(), 2**31 - 1)])
def test_random_ids_are_positive_in_their_type(rule, kind, high):
    out = mask_column(pa.array([f"k{i}" for i in range(2000)] + [None]), {"mask": rule})
    assert out.type == kind and out.null_count == 1
    ids = np.asarray(out.drop_null().to_pylist(), dtype=object)
    assert min(ids) >= 1 and max(ids) <= high and max(ids) > high // 2 and len(set(ids)) == 2000


@pytest.mark.parametrize("unique", [False, True])
def test_pseudonyms_seeded_from_another_column_agree_across_columns_and_never_equal_their_own_value(unique):
    logins = pa.array([f"user{i % 700}" for i in range(3000)] + ["user1", None])
    emails = pa.array([f"u{i % 700}@corp.example" for i in range(3000)] + [None, "x@corp.example"])
    batch = pa.record_batch({"login": logins, "email": emails})
    rule = {"mask": "pseudonymize", "kind": "email", "unique": unique, "row_key": "login"}
    policy = policy_for({"login": "keep", "email": rule})
    masker = build_table_masker(policy, "t", batch.schema, secret=SECRET)
    out = masker.mask_table(pa.Table.from_batches([batch])).column("email").to_pylist()
    by_login: dict = {}
    for login, masked in zip(logins.to_pylist()[:3000], out[:3000], strict=True):
        assert by_login.setdefault(login, masked) == masked  # one login, one pseudonym
    assert len(set(by_login.values())) > (699 if unique else 600)
    assert out[3000] is None and out[3001] is not None  # a null value stays null; a null login falls back to the value
    assert not set(out) & set(emails.to_pylist()) - {None}
    if not unique:  # the pick is the one the login itself would get: a login column masked alike matches
        direct = mask_column(logins.slice(0, 3000), {"mask": "pseudonymize", "kind": "email"}, column="login")
        assert direct.to_pylist() == out[:3000]


def test_constant_with_fill_nulls_replaces_nulls_too_even_in_an_all_null_batch():
    values = pa.array([None, "a", None])
    assert mask_column(values, {"mask": "constant", "value": "X", "fill_nulls": True}).to_pylist() == ["X"] * 3
    assert mask_column(values, {"mask": "constant", "value": "X"}).to_pylist() == [None, "X", None]
    assert mask_column(pa.array([None, None], pa.int64()), {"mask": "constant", "value": 0, "fill_nulls": True}
                       ).to_pylist() == [0, 0]
