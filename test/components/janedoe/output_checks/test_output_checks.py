"""One test per check, each on files a job could really write; every one fails if its check is taken out."""

import csv
import hashlib
import json
import os

import pyarrow as pa
import pyarrow.parquet as pq
import pytest
from janedoe.output_checks import CheckedOutput, DeclaredOutput, OutputRules, check_outputs

from .conftest import REAL, png_bytes

RULES = OutputRules(identifier_columns=frozenset({"email", "full_name", "patient_id"}))


def _check(tmp_path, files: dict[str, bytes | str], declared, rules=RULES, identifiers=None) -> list[CheckedOutput]:
    out = tmp_path / "output"
    out.mkdir(exist_ok=True)
    for name, content in files.items():
        (out / name).parent.mkdir(parents=True, exist_ok=True)
        (out / name).write_bytes(content.encode() if isinstance(content, str) else content)
    return check_outputs(out, declared, rules, identifiers=identifiers, checked_dir=tmp_path / "checked")


def _checks(result: CheckedOutput, blocking: bool | None = None) -> list[str]:
    return [f.check for f in result.findings if blocking is None or f.blocking == blocking]


def _no_identifier_in_messages(results):
    text = " ".join(f.message for r in results for f in r.findings).lower()
    for column in ("full_name", "email", "patient_id", "phone"):
        for value in REAL.column(column).to_pylist():
            assert str(value).lower() not in text
            for word in str(value).lower().split():
                assert word not in text


# --- file types -----------------------------------------------------------------------------------

def test_a_file_type_outside_its_kind_is_blocked(tmp_path):
    results = _check(tmp_path, {"run.sh": "echo", "table.txt": "a,b\n1,2\n"},
                     [DeclaredOutput("run.sh", "text"), DeclaredOutput("table.txt", "table")])
    assert [_checks(r) for r in results] == [["file_type"], ["file_type"]]
    assert not any(r.passed for r in results)
    assert not (tmp_path / "checked" / "run.sh").exists()


def test_a_png_with_a_wrong_signature_is_blocked_and_a_real_one_passes_without_its_text_chunks(tmp_path):
    fake = b"GIF89a\x00\x00" + png_bytes()[8:]  # only the signature is wrong: the chunks parse
    real = png_bytes((b"tEXt", b"Comment\x00amelie.durand@example.org"), trailer=b"hidden rows")
    results = _check(tmp_path, {"fake.png": fake, "plot.png": real},
                     [DeclaredOutput("fake.png", "figure"), DeclaredOutput("plot.png", "figure")])
    assert _checks(results[0]) == ["file_type"] and not results[0].passed
    assert results[1].passed
    checked = results[1].checked_file.read_bytes()
    assert checked == png_bytes() and b"amelie" not in checked and b"hidden" not in checked


@pytest.mark.parametrize("body", [
    '<svg xmlns="http://www.w3.org/2000/svg"><script>fetch("x")</script></svg>',
    '<svg xmlns="http://www.w3.org/2000/svg"><rect onload="alert(1)"/></svg>',
    '<svg xmlns="http://www.w3.org/2000/svg" xmlns:x="http://www.w3.org/1999/xlink">'
    '<image x:href="https://evil.example/p.png"/></svg>',
    '<svg xmlns="http://www.w3.org/2000/svg"><rect style="fill: url(https://evil.example/f)"/></svg>',
    '<!DOCTYPE svg [<!ENTITY a "b">]><svg xmlns="http://www.w3.org/2000/svg">&a;</svg>',
    '<svg xmlns="http://www.w3.org/2000/svg"><rect',
])
def test_an_svg_with_scripts_or_external_references_is_blocked(tmp_path, body):
    [result] = _check(tmp_path, {"plot.svg": body}, [DeclaredOutput("plot.svg", "figure")])
    assert _checks(result) == ["file_type"] and not result.passed and result.checked_file is None


def test_a_clean_svg_passes_but_one_with_an_identifier_in_its_text_does_not(tmp_path, identifiers):
    clean = '<svg xmlns="http://www.w3.org/2000/svg"><use href="#p"/><text>Visits by region</text></svg>'
    leaky = '<svg xmlns="http://www.w3.org/2000/svg"><text>outlier: Priya Raman</text></svg>'
    results = _check(tmp_path, {"a.svg": clean, "b.svg": leaky},
                     [DeclaredOutput("a.svg", "figure"), DeclaredOutput("b.svg", "figure")], identifiers=identifiers)
    assert results[0].passed and results[0].checked_file.read_text() == clean
    assert _checks(results[1]) == ["identifier_values"]
    _no_identifier_in_messages(results)


# --- size, rows, malformed files ------------------------------------------------------------------

def test_a_file_over_the_size_cap_is_blocked_unread(tmp_path):
    [result] = _check(tmp_path, {"notes.txt": "x" * 2000}, [DeclaredOutput("notes.txt", "text")],
                      rules=OutputRules(max_bytes=1000))
    assert _checks(result) == ["size"] and not result.passed


def test_a_table_over_the_row_cap_is_blocked(tmp_path):
    rows = "region,n\n" + "".join(f"r{i},20\n" for i in range(11))
    [result] = _check(tmp_path, {"t.csv": rows}, [DeclaredOutput("t.csv", "table")], rules=OutputRules(max_rows=10))
    assert _checks(result, blocking=True) == ["rows"]


@pytest.mark.parametrize(("name", "content"), [
    ("t.csv", 'a,b\n1,2\n3,4,5\n'),
    ("t.parquet", b"PAR1" + b"\x00" * 40 + b"PAR1"),
    ("t.json", '{"a": [1, 2'),
    ("t.json", '[1, 2, 3]'),
    ("t.jsonl", '{"a": 1}\n{"a": \n'),
    ("t.csv", b"a,b\n\xff\xfe,1\n"),
])
def test_a_malformed_table_is_a_blocking_finding_not_an_exception(tmp_path, name, content):
    [result] = _check(tmp_path, {name: content}, [DeclaredOutput(name, "table")])
    assert _checks(result) == ["file_type"] and not result.passed


# --- identifiers ----------------------------------------------------------------------------------

def test_a_column_named_as_an_identifier_under_another_spelling_is_blocked(tmp_path):
    [result] = _check(tmp_path, {"t.csv": "E-Mail,n\nx,20\n"}, [DeclaredOutput("t.csv", "table")])
    assert _checks(result, blocking=True) == ["identifier_column"]
    assert "column 1" in result.findings[0].message


def test_the_email_column_written_under_another_name_is_blocked_by_its_values(tmp_path, identifiers):
    emails = REAL.column("email").to_pylist()
    rows = "contact,region\n" + "".join(f"{e.upper()},north\n" for e in emails[:2])
    results = _check(tmp_path, {"t.csv": rows, "ok.csv": "region,visits\nnorth,20\n"},
                     [DeclaredOutput("t.csv", "table"), DeclaredOutput("ok.csv", "table")], identifiers=identifiers)
    assert _checks(results[0]) == ["identifier_values"] and results[0].findings[0].message.startswith("2 ")
    assert results[1].passed
    _no_identifier_in_messages(results)


def test_identifiers_a_csv_reader_would_read_as_numbers_are_found_in_its_text(tmp_path, identifiers):
    [result] = _check(tmp_path, {"t.csv": "tel,region\n0612345678,north\n"}, [DeclaredOutput("t.csv", "table")],
                      identifiers=identifiers)
    assert _checks(result) == ["identifier_values"] and "text" in result.findings[0].message


def test_identifier_values_as_column_names_are_blocked(tmp_path, identifiers):
    table = pa.table({"region": ["north"], "jonas.b@example.net": [20]})
    pq.write_table(table, tmp_path / "wide.parquet")
    [result] = _check(tmp_path, {"wide.parquet": (tmp_path / "wide.parquet").read_bytes()},
                      [DeclaredOutput("wide.parquet", "table")], identifiers=identifiers)
    assert "identifier_values" in _checks(result, blocking=True)
    _no_identifier_in_messages([result])


def test_a_job_printing_raw_rows_of_the_real_table_is_blocked(tmp_path, identifiers):
    printed = str(REAL.to_pandas().head(3))  # what `print(df.head(3))` puts in a log-like text output
    results = _check(tmp_path, {"summary.txt": printed, "fine.md": "# Visits\nNorth had about 20 visits.\n"},
                     [DeclaredOutput("summary.txt", "text"), DeclaredOutput("fine.md", "text")],
                     identifiers=identifiers)
    assert _checks(results[0]) == ["identifier_values"] and not results[0].passed
    assert results[0].checked_file is None and not (tmp_path / "checked" / "summary.txt").exists()
    assert results[1].passed and results[1].checked_file.read_text() == "# Visits\nNorth had about 20 visits.\n"
    _no_identifier_in_messages(results)


# --- counts ---------------------------------------------------------------------------------------

def test_counts_are_suppressed_below_the_threshold_and_rounded(tmp_path):
    [result] = _check(tmp_path, {"counts.csv": "region,patients\na,3\nb,12\nc,27\n"},
                      [DeclaredOutput("counts.csv", "table", count_columns=("patients",))])
    assert result.passed
    with open(result.checked_file, newline="") as source:
        assert [row["patients"] for row in csv.DictReader(source)] == ["", "10", "25"]
    findings = {f.check: f for f in result.findings}
    assert findings["small_cells"].message.startswith("1 ") and not findings["small_cells"].blocking
    assert findings["rounded"].message.startswith("2 ") and not findings["rounded"].blocking


def test_integer_columns_named_like_counts_are_suppressed_without_being_declared(tmp_path):
    table = pa.table({"region": ["a", "b"], "n_patients": [4, 31], "Total": [9, 40], "age_band": [3, 7]})
    pq.write_table(table, tmp_path / "t.parquet")
    [result] = _check(tmp_path, {"t.parquet": (tmp_path / "t.parquet").read_bytes()},
                      [DeclaredOutput("t.parquet", "table")])
    checked = pq.read_table(result.checked_file)
    assert checked.column("n_patients").to_pylist() == [None, 30]
    assert checked.column("Total").to_pylist() == [None, 40]
    assert checked.column("age_band").to_pylist() == [3, 7]


def test_a_declared_count_column_that_is_absent_blocks(tmp_path):
    [result] = _check(tmp_path, {"t.json": json.dumps([{"region": "a", "n": 12}])},
                      [DeclaredOutput("t.json", "table", count_columns=("patients",))])
    assert _checks(result, blocking=True) == ["small_cells"]


# --- notebooks ------------------------------------------------------------------------------------

def _notebook(output_text: str) -> str:
    return json.dumps({
        "cells": [{"cell_type": "code", "execution_count": 3, "id": "c1", "metadata": {"tags": ["x"]},
                   "source": "df.describe()",
                   "outputs": [{"output_type": "stream", "name": "stdout", "text": output_text}]}],
        "metadata": {"kernelspec": {"name": "python3", "display_name": "Python 3", "language": "python"},
                     "widgets": {"state": {"rows": output_text}}},
        "nbformat": 4, "nbformat_minor": 5,
    })


def test_notebook_outputs_are_stripped_from_the_checked_copy(tmp_path):
    [result] = _check(tmp_path, {"nb.ipynb": _notebook("mean age 39.5")}, [DeclaredOutput("nb.ipynb", "notebook")])
    assert result.passed and _checks(result) == ["notebook_outputs"]
    checked = json.loads(result.checked_file.read_text())
    cell = checked["cells"][0]
    assert cell["outputs"] == [] and cell["execution_count"] is None and cell["metadata"] == {}
    assert cell["source"] == "df.describe()" and set(checked["metadata"]) == {"kernelspec"}
    assert "39.5" not in result.checked_file.read_text()


def test_a_notebook_output_holding_real_identifiers_is_blocked(tmp_path, identifiers):
    [result] = _check(tmp_path, {"nb.ipynb": _notebook(str(REAL.to_pandas()))},
                      [DeclaredOutput("nb.ipynb", "notebook")], identifiers=identifiers)
    assert "identifier_values" in _checks(result, blocking=True) and result.checked_file is None
    _no_identifier_in_messages([result])


# --- declared, undeclared, written ----------------------------------------------------------------

def test_undeclared_files_are_reported_not_copied_and_missing_ones_block(tmp_path):
    results = _check(tmp_path, {"a.txt": "ok", "sub/raw.csv": "x\n1\n"},
                     [DeclaredOutput("a.txt", "text"), DeclaredOutput("gone.csv", "table")])
    by_path = {r.path: r for r in results}
    assert by_path["a.txt"].passed
    assert _checks(by_path["gone.csv"]) == ["missing"] and by_path["gone.csv"].findings[0].blocking
    undeclared = by_path["sub/raw.csv"]
    assert _checks(undeclared) == ["undeclared"] and not undeclared.passed and undeclared.checked_file is None
    assert not (tmp_path / "checked" / "sub").exists()


def test_an_undeclared_file_named_after_a_real_identifier_is_reported_without_its_name(tmp_path, identifiers):
    [result] = _check(tmp_path, {"out/jonas.b@example.net_rows.txt": "x"}, [], identifiers=identifiers)
    assert result.path == "(undeclared file 1)" and _checks(result) == ["undeclared"]
    _no_identifier_in_messages([result])


def test_symlinks_and_paths_leaving_the_output_folder_are_refused(tmp_path):
    secret = tmp_path / "real.csv"
    secret.write_text("email\nx@y.z\n")
    (tmp_path / "output").mkdir()
    os.symlink(secret, tmp_path / "output" / "leak.csv")
    results = _check(tmp_path, {}, [DeclaredOutput("leak.csv", "table"), DeclaredOutput("../real.csv", "table")])
    assert [_checks(r) for r in results] == [["file_type"], ["file_type"]]
    assert not any(r.passed for r in results)


def test_checked_files_are_written_whole_with_their_sha256(tmp_path):
    [result] = _check(tmp_path, {"notes.md": "# Result\n"}, [DeclaredOutput("notes.md", "text")])
    assert result.sha256 == hashlib.sha256(result.checked_file.read_bytes()).hexdigest()
    assert sorted(p.name for p in (tmp_path / "checked").iterdir()) == ["notes.md"]
