"""Plain tables: aligned for a reader, and a stored text can never drive the reader's terminal."""

from janedoe.cli.rendering import plain_table


def test_columns_align_and_control_characters_are_shown_not_sent(capsys):
    plain_table("spends", ["#", "query"], [["1", "count\x1b]0;owned\x07"], ["12", "mean(age)"]])
    lines = capsys.readouterr().out.splitlines()
    assert lines[0] == "spends"
    assert lines[1] == "#   query" and lines[2].split() == ["--", "-" * len("count\\x1b]0;owned\\x07")]
    assert lines[3] == "1   count\\x1b]0;owned\\x07"
    assert lines[4] == "12  mean(age)"
    assert not any(ord(c) < 32 for line in lines for c in line)
