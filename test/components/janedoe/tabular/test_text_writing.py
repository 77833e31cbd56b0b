import pytest
from janedoe.errors import JaneDoeInputError
from janedoe.tabular import write_text_atomic


def test_writes_the_whole_text_and_leaves_no_temporary_file(tmp_path):
    target = tmp_path / "report.json"
    write_text_atomic('{"k": 5}\n', target)
    assert target.read_text(encoding="utf-8") == '{"k": 5}\n'
    assert [p.name for p in tmp_path.iterdir()] == ["report.json"]


def test_replaces_an_existing_file_in_one_step(tmp_path):
    target = tmp_path / "policy.yaml"
    target.write_text("old", encoding="utf-8")
    write_text_atomic("new ünïcode", target)
    assert target.read_text(encoding="utf-8") == "new ünïcode"


def test_a_missing_directory_is_an_input_error_and_writes_nothing(tmp_path):
    with pytest.raises(JaneDoeInputError, match="directory does not exist"):
        write_text_atomic("x", tmp_path / "absent" / "out.html")
    assert list(tmp_path.iterdir()) == []


def test_a_failed_write_leaves_neither_output_nor_temporary_file(tmp_path):
    target = tmp_path / "out.txt"
    with pytest.raises(UnicodeEncodeError):
        write_text_atomic("\udc80 lone surrogate", target)
    assert list(tmp_path.iterdir()) == []
