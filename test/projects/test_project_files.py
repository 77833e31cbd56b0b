"""The projects' pyproject files agree: one library distribution owns the components, each application lists the
components it uses (for poly) but leaves them out of its wheel, and every distribution carries one version."""

import tomllib
from pathlib import Path

ROOT = Path(__file__).resolve().parents[2]
LIBRARY = "janedoe-components"
APPLICATIONS = ("janedoe-cli", "janedoe-api", "janedoe-spark")
OWN_COMPONENTS = {"janedoe-spark": {"spark_engine"}}  # needs pyspark: shipped by the Spark application alone


def _poetry_table(project: str) -> dict:
    with open(ROOT / "projects" / project / "pyproject.toml", "rb") as file:
        return tomllib.load(file)["tool"]["poetry"]


def _components_listed(table: dict) -> set[str]:
    return {entry["include"].removeprefix("janedoe/") for entry in table["packages"]
            if entry["from"] == "../../components"}


def test_the_library_ships_every_component_but_the_applications_own():
    components = {path.name for path in (ROOT / "components" / "janedoe").iterdir()
                  if (path / "__init__.py").exists()}
    owned_by_applications = set().union(*OWN_COMPONENTS.values())
    assert _components_listed(_poetry_table(LIBRARY)) == components - owned_by_applications


def test_each_application_leaves_the_library_components_out_of_its_wheel():
    for project in APPLICATIONS:
        table = _poetry_table(project)
        shipped_elsewhere = _components_listed(table) - OWN_COMPONENTS.get(project, set())
        excluded = {pattern.removeprefix("janedoe/").removesuffix("/*") for pattern in table.get("exclude", [])}
        assert shipped_elsewhere == excluded, project


def test_one_version_for_every_distribution():
    version = _poetry_table(LIBRARY)["version"]
    with open(ROOT / "pyproject.toml", "rb") as file:
        assert tomllib.load(file)["tool"]["poetry"]["version"] == version
    for project in APPLICATIONS:
        table = _poetry_table(project)
        assert table["version"] == version, project
        assert table["dependencies"][LIBRARY] == version, project  # the library built from the same commit
