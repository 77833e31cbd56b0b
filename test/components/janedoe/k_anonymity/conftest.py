"""Shared fixtures: the plain-Python reference implementation and the bundled Adult data."""

import importlib.util
import pathlib

import pyarrow.csv as pacsv
import pytest

HERE = pathlib.Path(__file__).parent
ADULT = HERE.parents[3] / "data" / "adult"


@pytest.fixture(scope="session")
def reference():
    spec = importlib.util.spec_from_file_location("kanon_reference", HERE / "independent.py")
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    return module


@pytest.fixture(scope="session")
def adult():
    return pacsv.read_csv(ADULT / "adult.csv", parse_options=pacsv.ParseOptions(delimiter=";"))


@pytest.fixture(scope="session")
def adult_hierarchy_path():
    return lambda column: ADULT / f"adult_hierarchy_{column}.csv"
