"""The identifier index and the policy's identifier columns."""

import pickle

import pyarrow as pa
import pytest
from janedoe.output_checks import IdentifierIndex, identifier_columns
from janedoe.policy import parse_policy

from .conftest import REAL


def test_identifiers_are_found_whatever_their_case_accents_or_surroundings(identifiers):
    assert identifiers.overlap(["AMELIE DURAND", "amélie durand", "Nobody Here", None]) == 2
    assert identifiers.occurrences(["the oldest was Tomasz Wojcik, 45.", "mail t.wojcik@example.pl!"]) == 2
    assert identifiers.occurrences(["patient 48213379 came twice"]) == 1
    assert identifiers.occurrences(["north and south had 48 and 51 visits"]) == 0


def test_values_longer_than_the_longest_run_searched_are_found_as_whole_texts():
    note = "called twice about the results of her blood test last friday morning"
    index = IdentifierIndex.from_table(pa.table({"notes": [note, "short note here"]}), ["notes"])
    assert index.occurrences([note.upper(), "short note here, again", "called twice about the results"]) == 2


def test_values_many_rows_share_or_too_short_to_single_anyone_out_are_not_indexed():
    table = pa.table({"city": ["Lyon"] * 10 + ["Albi"], "id": pa.array([7] + [1234567] * 10, pa.int64())})
    index = IdentifierIndex.from_table(table, ["city", "id"])
    assert index.overlap(["Lyon"]) == 0 and index.overlap(["Albi"]) == 1
    assert index.overlap(["7", "1234567"]) == 0
    assert IdentifierIndex.from_table(table, ["city"], common_at=None).overlap(["Lyon"]) == 1


def test_the_key_is_random_per_index_and_never_leaves_it(identifiers):
    again = IdentifierIndex.from_table(REAL, ["email"])
    assert not set(again._digests.tolist()) & set(identifiers._digests.tolist())
    with pytest.raises(TypeError):
        pickle.dumps(identifiers)
    assert "example" not in repr(identifiers)


def test_identifier_columns_come_from_masking_rules_and_personal_headers():
    policy = parse_policy("""
tables:
  patients:
    columns:
      email: {mask: pseudonymize, kind: email}
      Patient_ID: keyed_permutation
      phone_number: keep
      region: keep
      age: {mask: generalize, step: 10}
      salary: {mask: noise, ratio: 0.1}
      remarks: redact
""", "policy.yaml")
    assert identifier_columns(policy.tables["patients"]) == {"email", "patient_id", "phone_number", "remarks"}
    assert identifier_columns(None) == frozenset()
