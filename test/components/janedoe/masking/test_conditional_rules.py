"""`when:` / `otherwise:` (anon.ternary): per-row conditions, fail-closed NULLs, original values read."""

import datetime as dt

import pyarrow as pa
import pytest
from janedoe.errors import JaneDoeInputError
from janedoe.masking import build_table_masker

from .helpers import SECRET, policy_for


def _mask(columns: dict, rules: dict) -> pa.RecordBatch:
    batch = pa.record_batch(columns)
    all_rules = {name: rules.get(name, "keep") for name in batch.schema.names}
    masker = build_table_masker(policy_for(all_rules), "t", batch.schema, secret=SECRET, seed=1)
    return masker.mask_batch(batch)


EMAILS = pa.array(["a@x.org", "b@x.org", "c@x.org", None, "e@x.org"])
PUBLIC = pa.array([True, False, None, False, True])


def test_masks_only_rows_where_the_condition_holds_and_null_conditions_fail_closed():
    rule = {"mask": "constant", "value": "hidden", "when": {"column": "is_public", "equals": False}}
    out = _mask({"email": EMAILS, "is_public": PUBLIC}, {"email": rule})
    # public rows keep their email; private rows and the row whose is_public is NULL are masked; NULL stays NULL
    assert out.column("email").to_pylist() == ["a@x.org", "hidden", "hidden", None, "e@x.org"]
    assert out.column("is_public").to_pylist() == PUBLIC.to_pylist()


def test_not_on_a_null_condition_still_masks():
    rule = {"mask": "constant", "value": "hidden", "when": {"not": {"column": "is_public", "equals": True}}}
    out = _mask({"email": EMAILS, "is_public": PUBLIC}, {"email": rule})
    assert out.column("email").to_pylist() == ["a@x.org", "hidden", "hidden", None, "e@x.org"]


def test_otherwise_rule_takes_the_other_rows():
    rule = {"mask": "partial_email", "when": {"column": "country", "in": ["FR", "DE"]},
            "otherwise": {"mask": "constant", "value": "elsewhere"}}
    country = pa.array(["FR", "US", "DE", None])
    out = _mask({"email": pa.array(["daamien@gmail.com"] * 4), "country": country}, {"email": rule})
    assert out.column("email").to_pylist() == [
        "da******@gm******.com", "elsewhere", "da******@gm******.com", "da******@gm******.com"]


def test_is_null_all_any_and_typed_values():
    salary = pa.array([100, 200, 300, 400], pa.int64())
    hired = pa.array([dt.date(2020, 1, 1), None, dt.date(2021, 5, 1), dt.date(2020, 1, 1)])
    level = pa.array([1, 2, 3, None], pa.int32())
    rule = {"mask": "null", "when": {"any": [{"column": "hired", "is_null": True},
                                            {"all": [{"column": "hired", "equals": "2020-01-01"},
                                                     {"column": "level", "in": [1, 2]}]}]}}
    out = _mask({"salary": salary, "hired": hired, "level": level}, {"salary": rule})
    # row 0: hired 2020-01-01 and level 1; row 1: hired NULL; row 3: hired matches, level NULL -> unknown -> masked
    assert out.column("salary").to_pylist() == [None, None, 300, None]


def test_condition_reads_the_original_value_of_a_masked_column():
    rule = {"mask": "constant", "value": "hidden", "when": {"column": "is_public", "equals": False}}
    out = _mask({"email": EMAILS, "is_public": PUBLIC},
                {"email": rule, "is_public": {"mask": "constant", "value": True}})
    assert out.column("is_public").to_pylist() == [True, True, None, True, True]
    assert out.column("email").to_pylist() == ["a@x.org", "hidden", "hidden", None, "e@x.org"]


def test_draws_are_those_of_the_unconditional_rule():
    ids = pa.array(list(range(50)), pa.int64())
    plain = _mask({"v": ids, "flag": pa.array([True] * 50)}, {"v": {"mask": "noise", "ratio": 0.5}})
    rule = {"mask": "noise", "ratio": 0.5, "when": {"column": "flag", "equals": True}}
    conditional = _mask({"v": ids, "flag": pa.array([True] * 50)}, {"v": rule})
    assert conditional.column("v").equals(plain.column("v"))


def test_kept_values_take_the_masked_type():
    rule = {"mask": "hash", "length": 8, "when": {"column": "flag", "equals": 1}}
    out = _mask({"v": pa.array([7, 8, None], pa.int64()), "flag": pa.array([1, 0, 0])}, {"v": rule})
    values = out.column("v").to_pylist()
    assert out.column("v").type == pa.string() and len(values[0]) == 8 and values[1:] == ["8", None]


def test_otherwise_that_fills_nulls_fills_the_unmatched_null_rows():
    rule = {"mask": "keep", "when": {"column": "flag", "equals": True},
            "otherwise": {"mask": "constant", "value": "n/a", "fill_nulls": True}}
    out = _mask({"v": pa.array([None, None, "x"]), "flag": pa.array([True, False, False])}, {"v": rule})
    assert out.column("v").to_pylist() == [None, "n/a", "n/a"]


@pytest.mark.parametrize(
    ("rule", "where"),
    [
        ({"mask": "null", "when": {"column": "missing", "equals": 1}}, "tables.t.columns.v.when.column"),
        ({"mask": "null", "when": {"column": "flag", "equals": "yes"}}, "tables.t.columns.v.when.equals"),
        ({"mask": "null", "when": {"not": {"column": "flag", "in": [1.5]}}}, "tables.t.columns.v.when.not.in"),
        ({"mask": "null", "when": {"any": [{"column": "flag", "is_null": True}, {"column": "nope", "is_null": True}]}},
         "tables.t.columns.v.when.any.1.column"),
        ({"mask": "shuffle", "when": {"column": "flag", "equals": 1}}, "tables.t.columns.v"),
        ({"mask": "pseudonymize", "kind": "email", "unique": True, "when": {"column": "flag", "equals": 1}},
         "tables.t.columns.v"),
        ({"mask": "null", "when": {"column": "flag", "equals": 1}, "otherwise": {"mask": "noise", "ratio": 0.1,
                                                                                "row_key": "nope"}},
         "tables.t.columns.v.otherwise.row_key"),
        ({"mask": "random_int", "min": 1, "max": 2, "when": {"column": "flag", "equals": 1},
          "otherwise": {"mask": "random_date", "min": "2020-01-01", "max": "2020-02-01"}},
         "tables.t.columns.v.otherwise"),
        ({"mask": "random_int", "min": 1, "max": 2, "when": {"column": "flag", "equals": 1},
          "otherwise": {"mask": "hash"}}, "tables.t.columns.v.otherwise"),
        ({"mask": "random_int", "min": 1, "max": 2, "when": {"column": "flag", "equals": 1}},
         "tables.t.columns.text.when"),
    ],
)
def test_bad_conditions_are_refused_when_the_masker_is_built(rule, where):
    schema = pa.schema([("v", pa.int64()), ("flag", pa.int64()), ("text", pa.string())])
    column = where.split(".")[3]
    rules = {"v": "keep", "flag": "keep", "text": "keep", column: rule}
    with pytest.raises(JaneDoeInputError) as error:
        build_table_masker(policy_for(rules), "t", schema, secret=SECRET, seed=1)
    assert error.value.where == where and "\n" not in str(error.value)


@pytest.mark.parametrize(
    "rule",
    [
        {"mask": "null", "otherwise": "keep"},
        {"mask": "null", "when": {"column": "flag"}},
        {"mask": "null", "when": {"equals": 1}},
        {"mask": "null", "when": {"column": "flag", "equals": None}},
        {"mask": "null", "when": {"column": "flag", "equals": 1},
         "otherwise": {"mask": "null", "when": {"column": "flag", "equals": 2}}},
        {"mask": "null", "when": "flag = 1"},
    ],
)
def test_bad_condition_grammar_is_a_one_line_policy_error(rule):
    with pytest.raises(JaneDoeInputError) as error:
        policy_for({"v": rule})
    assert "tables.t.columns.v" in str(error.value) and "\n" not in str(error.value)


def test_rules_without_a_condition_dump_as_before():
    policy = policy_for({"v": {"mask": "hash"}})
    assert policy.tables["t"].columns["v"].mask.model_dump(mode="json") == {
        "mask": "hash", "algorithm": "sha256", "length": None}
