"""`janedoe --version` and the help text every option and argument needs to be usable without the README."""

import os
import subprocess
import sys
from importlib.metadata import PackageNotFoundError, version

import typer.main
from janedoe.cli import app

JANEDOE = os.path.join(os.path.dirname(sys.executable), "janedoe")


def installed_version() -> str:
    for distribution in ("janedoe-cli", "janedoe-development"):
        try:
            return version(distribution)
        except PackageNotFoundError:
            continue
    raise AssertionError("no janedoe distribution is installed")


def test_version_is_the_installed_distributions():
    result = subprocess.run([JANEDOE, "--version"], capture_output=True, text=True, timeout=120)
    assert result.returncode == 0
    assert result.stdout.strip() == f"janedoe {installed_version()}"


def test_every_option_and_argument_has_help():
    missing = []

    def walk(command, path):
        for parameter in command.params:
            if not getattr(parameter, "help", None):
                missing.append(f"{path} {parameter.name}")
        for name, sub in (getattr(command, "commands", None) or {}).items():
            walk(sub, f"{path} {name}")

    walk(typer.main.get_command(app), "janedoe")
    assert missing == []


def test_every_area_is_added_explicitly():
    """The app is complete as imported: no command module has to be imported for its side effect first."""
    names = {group.name for group in app.registered_groups} | {command.name for command in app.registered_commands}
    assert names == {"mask", "policy", "kanon", "dp", "synth", "db", "job", "review"}
