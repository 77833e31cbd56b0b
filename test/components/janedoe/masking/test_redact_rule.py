"""The `redact` rule: personal spans in free text replaced through the whole file path, the rest kept."""

from pathlib import Path

import pyarrow as pa
import pytest
from janedoe.errors import JaneDoeInputError
from janedoe.masking import mask_file
from janedoe.tabular import read_table

from .helpers import SECRET, mask_column, parse_policy_dict

CUSTOMERS = Path(__file__).resolve().parents[4] / "data" / "demo" / "customers.csv"


def test_redact_through_mask_file_leaves_no_email_iban_phone_or_name_of_the_source(tmp_path):
    policy = parse_policy_dict({"version": 1, "default": "null", "tables": {"customers": {"columns": {
        "notes": {"mask": "redact"}, "id": {"mask": "keep"}}}}})
    out = tmp_path / "masked.csv"
    mask_file(policy, CUSTOMERS, out, batch_size=64, secret=SECRET)
    source, masked = read_table(CUSTOMERS), read_table(out)
    notes = masked.column("notes").to_pylist()
    originals = source.column("notes").to_pylist()
    assert [n is None for n in notes] == [o is None for o in originals]  # NULLs stay NULL
    blob = "\n".join(n for n in notes if n)
    for column in ("email", "iban", "phone", "name"):
        leaked = {v for v in source.column(column).to_pylist() if v and v in blob}
        assert leaked == set(), column
    assert "[EMAIL]" in blob and "[IBAN]" in blob and "[NAME]" in blob and "[PHONE]" in blob
    kept = [n for n, o in zip(notes, originals, strict=True) if o and o.startswith("Asked to update IBAN to")]
    assert kept and all(n == "Asked to update IBAN to [IBAN]." for n in kept)  # the rest of the note survives


def test_entities_and_replacement_are_configurable():
    values = pa.array(["Jason Glover: jason@example.com, 865.636.8615", None])
    only_email = mask_column(values, {"mask": "redact", "entities": ["email"], "replacement": "***"})
    assert only_email.to_pylist() == ["Jason Glover: ***, 865.636.8615", None]
    per_entity = mask_column(values, {"mask": "redact", "replacement": {"name": "N", "phone": "P"}})
    assert per_entity.to_pylist() == ["N N: [EMAIL], P", None]


def test_redact_needs_no_secret_and_refuses_a_non_text_column():
    assert mask_column(pa.array(["ann@example.org"]), {"mask": "redact"}, secret=None).to_pylist() == ["[EMAIL]"]
    with pytest.raises(JaneDoeInputError, match="redact needs a text column") as error:
        mask_column(pa.array([1, 2]), {"mask": "redact"})
    assert error.value.where == "tables.t.columns.c"


@pytest.mark.parametrize(("rule", "message"), [
    ({"mask": "redact", "entities": ["email", "salary"]}, "entities"),
    ({"mask": "redact", "entities": []}, "entities"),
    ({"mask": "redact", "replacement": {"postcode": "x"}}, "replacement"),
    ({"mask": "redact", "pattern": "x"}, "pattern"),
])
def test_bad_redact_parameters_are_policy_errors(rule, message):
    with pytest.raises(JaneDoeInputError, match=message):
        parse_policy_dict({"version": 1, "tables": {"t": {"columns": {"c": rule}}}})
