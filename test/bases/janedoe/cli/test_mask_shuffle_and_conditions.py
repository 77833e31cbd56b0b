"""`janedoe mask` with a whole-column shuffle under --batch-size and conditional rules, end to end."""

import numpy as np
import pyarrow as pa
import pyarrow.csv as pcsv
from janedoe.tabular import read_table

from .test_mask_commands import assert_user_error, run

POLICY = """version: 1
tables:
  people:
    columns:
      id: keep
      is_public: keep
      rank: shuffle
      email: {mask: hash, length: 12, when: {column: is_public, equals: false}}
"""


def _people(tmp_path, rows: int = 20_000):
    path = tmp_path / "people.csv"
    public = np.arange(rows) % 3 == 0
    pcsv.write_csv(pa.table({"id": np.arange(rows), "is_public": public, "rank": np.arange(rows),
                             "email": [f"p{i}@example.org" for i in range(rows)]}), path)
    (tmp_path / "policy.yaml").write_text(POLICY)
    return path, public


def test_shuffle_moves_values_across_batches_and_conditions_mask_only_private_rows(tmp_path):
    source, public = _people(tmp_path)
    result = run("mask", "-p", tmp_path / "policy.yaml", source, tmp_path / "out.parquet", "--batch-size", "1000")
    assert result.returncode == 0, result.stderr
    out = read_table(tmp_path / "out.parquet")
    rank = out.column("rank").to_numpy()
    assert sorted(rank.tolist()) == list(range(20_000))
    assert 0.04 < np.mean(rank // 1000 == np.arange(20_000) // 1000) < 0.06  # 1/20 for a whole-column shuffle
    emails = np.array(out.column("email").to_pylist())
    assert all(emails[public] == [f"p{i}@example.org" for i in np.flatnonzero(public)])
    assert all(len(e) == 12 and "@" not in e for e in emails[~public])


def test_an_unknown_condition_column_is_a_one_line_error(tmp_path):
    source, _ = _people(tmp_path, 10)
    (tmp_path / "policy.yaml").write_text(POLICY.replace("column: is_public", "column: is_pub"))
    result = run("mask", "-p", tmp_path / "policy.yaml", source, tmp_path / "out.parquet")
    assert_user_error(result, "tables.people.columns.email.when.column", "is_pub")
    assert not (tmp_path / "out.parquet").exists()
