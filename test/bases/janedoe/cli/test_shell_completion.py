"""Shell completion: the script typer prints, and the completions it answers, from the installed command."""

import os
import subprocess
import sys

JANEDOE = os.path.join(os.path.dirname(sys.executable), "janedoe")


def _complete(words: str, cword: int) -> list[str]:
    environment = {**os.environ, "_JANEDOE_COMPLETE": "complete_bash", "COMP_WORDS": words, "COMP_CWORD": str(cword)}
    run = subprocess.run([JANEDOE], env=environment, capture_output=True, text=True, timeout=60)
    assert run.returncode == 0, run.stderr
    return run.stdout.split()


def test_bash_completion_lists_sub_commands_and_their_commands():
    assert sorted(_complete("janedoe d", 1)) == ["db", "dp"]
    assert set(_complete("janedoe dp ", 2)) == {"query", "budget"}
    assert "--policy" in _complete("janedoe mask --po", 2)


def test_the_completion_script_is_printed_for_bash():
    run = subprocess.run([JANEDOE, "--show-completion", "bash"], capture_output=True, text=True, timeout=60)
    assert run.returncode == 0 and "_JANEDOE_COMPLETE=complete_bash" in run.stdout
