import numpy as np
import pyarrow as pa
import pytest
from janedoe.errors import JaneDoeInputError
from janedoe.k_anonymity import (
    AnonymizationConfig,
    anonymize,
    date_hierarchy,
    grouping_hierarchy,
    interval_hierarchy,
    mask_right_hierarchy,
    read_hierarchy_csv,
)


def write(tmp_path, text, name="h.csv"):
    path = tmp_path / name
    path.write_text(text)
    return path


def assert_functional(labels):
    """Every label at level j has a single parent at level j+1, and the top is one label."""
    for level in range(labels.shape[1] - 1):
        parents = {}
        for child, parent in zip(labels[:, level], labels[:, level + 1], strict=True):
            assert parents.setdefault(child, parent) == parent
    assert len(set(labels[:, -1])) == 1


def test_reads_arx_hierarchy(adult_hierarchy_path):
    hierarchy = read_hierarchy_csv(adult_hierarchy_path("marital-status"))
    assert hierarchy.height == 3
    assert set(hierarchy.leaves) >= {"Married-civ-spouse", "Divorced", "Never-married"}
    assert set(hierarchy.labels[:, -1]) == {"*"}
    rows = dict(zip(hierarchy.labels[:, 0], hierarchy.labels[:, 1], strict=True))
    assert rows["Divorced"] == "spouse not present"


def test_ragged_rows_name_file_and_line(tmp_path):
    path = write(tmp_path, "a;x;*\nb;*\n")
    with pytest.raises(JaneDoeInputError) as caught:
        read_hierarchy_csv(path)
    assert f"{path}:2" in str(caught.value) and "ragged" in str(caught.value) and "'b'" in str(caught.value)


def test_non_monotone_names_file_and_label(tmp_path):
    path = write(tmp_path, "a;x;p;*\nb;x;q;*\nc;y;q;*\n")
    with pytest.raises(JaneDoeInputError) as caught:
        read_hierarchy_csv(path)
    message = str(caught.value)
    assert str(path) in message and "'x'" in message and "non-monotone" in message


def test_duplicate_value_is_refused(tmp_path):
    path = write(tmp_path, "a;*\nb;*\na;*\n")
    with pytest.raises(JaneDoeInputError, match="appears twice"):
        read_hierarchy_csv(path)


def test_value_missing_from_hierarchy_names_file_and_column(tmp_path):
    path = write(tmp_path, "a;*\nb;*\n")
    table = pa.table({"q": ["a", "b", "c", "a"]})
    config = AnonymizationConfig(["q"], 1, hierarchies={"q": read_hierarchy_csv(path)})
    with pytest.raises(JaneDoeInputError) as caught:
        anonymize(table, config)
    message = str(caught.value)
    assert str(path) in message and "'q'" in message and "data row 3" in message


def test_missing_hierarchy_file(tmp_path):
    with pytest.raises(JaneDoeInputError, match="not found"):
        read_hierarchy_csv(tmp_path / "absent.csv")


def test_interval_rule_levels_contain_values():
    values = np.array(["3", "17", "42", "58", "99"])
    hierarchy = interval_hierarchy(values, 10)
    assert_functional(hierarchy.labels)
    row = {r[0]: r for r in hierarchy.labels}
    assert row["42"][1] == "[40-49]" and row["42"][2] == "[40-59]"
    for leaf, labels in row.items():
        for label in labels[1:-1]:
            low, high = label.strip("[]").split("-")
            assert int(low) <= int(leaf) <= int(high)


def test_mask_right_rule():
    hierarchy = mask_right_hierarchy(np.array(["12345", "12399", "54321"]), 2)
    assert_functional(hierarchy.labels)
    row = {r[0]: list(r) for r in hierarchy.labels}
    assert row["12345"] == ["12345", "123**", "1****", "*"]


def test_date_rule():
    hierarchy = date_hierarchy(np.array(["2021-03-04", "2021-11-30", "1999-01-01"]), "year")
    assert_functional(hierarchy.labels)
    row = {r[0]: list(r) for r in hierarchy.labels}
    assert row["2021-03-04"] == ["2021-03-04", "2021-03", "2021", "*"]


def test_grouping_rule_and_its_errors():
    values = np.array(["cat", "dog", "oak"])
    hierarchy = grouping_hierarchy(values, [{"animal": ["cat", "dog"], "plant": ["oak"]}])
    assert_functional(hierarchy.labels)
    with pytest.raises(JaneDoeInputError, match="in no group"):
        grouping_hierarchy(values, [{"animal": ["cat", "dog"]}])
    with pytest.raises(JaneDoeInputError, match="non-monotone"):
        grouping_hierarchy(values, [{"animal": ["cat", "dog"], "pet": ["cat"], "plant": ["oak"]}])
