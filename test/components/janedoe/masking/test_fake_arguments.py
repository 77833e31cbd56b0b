"""`fake` with provider arguments and list-valued providers (PostgreSQL Anonymizer's anon.lorem_ipsum(...) family)."""

import pyarrow as pa
import pytest
from janedoe.errors import JaneDoeInputError

from test.components.janedoe.masking.helpers import mask_column

TEXTS = pa.array([f"original note {i}" for i in range(300)])


def test_arguments_reach_the_provider():
    one = mask_column(TEXTS, {"mask": "fake", "kind": "paragraph", "args": {"nb_sentences": 1,
                                                                           "variable_nb_sentences": False}})
    five = mask_column(TEXTS, {"mask": "fake", "kind": "paragraph", "args": {"nb_sentences": 5,
                                                                            "variable_nb_sentences": False}})
    sentences = lambda values: [value.count(".") for value in values.to_pylist()]  # noqa: E731
    assert set(sentences(one)) == {1}
    assert set(sentences(five)) == {5}


def test_string_length_argument_is_honoured():
    out = mask_column(TEXTS, {"mask": "fake", "kind": "pystr", "args": {"min_chars": 12, "max_chars": 12}})
    assert {len(value) for value in out.to_pylist()} == {12}


def test_list_valued_providers_are_joined_text_not_a_list_repr():
    out = mask_column(TEXTS, {"mask": "fake", "kind": "words", "args": {"nb": 3}})
    values = out.to_pylist()
    assert out.type == pa.string()
    assert all("[" not in value and "'" not in value and len(value.split(" ")) == 3 for value in values)
    joined = mask_column(TEXTS, {"mask": "fake", "kind": "words", "args": {"nb": 2}, "separator": ", "})
    assert all(len(value.split(", ")) == 2 for value in joined.to_pylist())


def test_other_arguments_give_other_pools_and_never_the_original():
    out = mask_column(TEXTS, {"mask": "fake", "kind": "sentence", "args": {"nb_words": 4}})
    assert not set(out.to_pylist()) & set(TEXTS.to_pylist())


@pytest.mark.parametrize("args, message", [
    ({"no_such_argument": 1}, "does not take these args: no_such_argument"),
    ({"__class__": 1}, "not an argument name"),
])
def test_bad_arguments_are_one_line_errors_naming_the_field(args, message):
    with pytest.raises(JaneDoeInputError, match=message) as error:
        mask_column(TEXTS, {"mask": "fake", "kind": "paragraph", "args": args})
    assert "args" in str(error.value)


def test_a_provider_returning_a_mapping_is_refused():
    with pytest.raises(JaneDoeInputError, match="mapping|not a Faker provider usable"):
        mask_column(TEXTS, {"mask": "fake", "kind": "profile"})
