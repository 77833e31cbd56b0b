"""OWASP's CSV-injection escape on Arrow batches: text cells only, every dangerous first character, nulls kept."""

import pyarrow as pa
from janedoe.dataset_masking import escape_formulas

DANGEROUS = ["=1+1", "+33 1 23", "-2+3", "@SUM(A1)", "\tcmd", "\rcmd"]
HARMLESS = ["plain", "a=b", " =x", "", "'=already"]


def test_text_cells_a_spreadsheet_would_run_get_a_leading_quote():
    texts = DANGEROUS + HARMLESS + [None]
    batch = pa.record_batch({"text": pa.array(texts), "large": pa.array(texts, pa.large_string()),
                             "coded": pa.array(texts).dictionary_encode()})
    escaped = escape_formulas(batch)
    expected = ["'" + text for text in DANGEROUS] + HARMLESS + [None]
    assert escaped.schema == batch.schema
    assert escaped.column("text").to_pylist() == expected
    assert escaped.column("large").to_pylist() == expected
    assert escaped.column("coded").to_pylist() == expected


def test_numbers_dates_and_clean_text_are_left_as_they_are():
    batch = pa.record_batch({"delta": pa.array([-1, -2, 3]), "ratio": pa.array([-0.5, 1.0, None]),
                             "when": pa.array([0, 1, 2], pa.date32()), "name": pa.array(["a", "b", "c"])})
    escaped = escape_formulas(batch)
    assert escaped.equals(batch)
