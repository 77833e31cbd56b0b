"""The documentation site builds (`mkdocs build --strict`: any warning fails) and documents every interface name."""

import ast
import re
import subprocess
import sys
from pathlib import Path

import pytest
import yaml

ROOT = Path(__file__).resolve().parents[1]
COMPONENTS = ROOT / "components" / "janedoe"


def _interfaces() -> dict[str, list[str]]:
    """Each component brick's __all__, read from its source."""
    names = {}
    for init in sorted(COMPONENTS.glob("*/__init__.py")):
        for node in ast.parse(init.read_text()).body:
            if isinstance(node, ast.Assign) and any(getattr(target, "id", "") == "__all__" for target in node.targets):
                names[init.parent.name] = [element.value for element in node.value.elts]
    return names


def _nav_pages(nav) -> list[str]:
    pages = []
    for entry in nav:
        for value in entry.values() if isinstance(entry, dict) else [entry]:
            pages += _nav_pages(value) if isinstance(value, list) else [value]
    return pages


def test_every_component_has_a_page_in_the_navigation():
    pages = _nav_pages(yaml.safe_load((ROOT / "mkdocs.yml").read_text())["nav"])
    missing = [brick for brick in _interfaces() if f"components/{brick}.md" not in pages]
    assert not missing, f"add docs/components/<brick>.md and a nav entry for: {', '.join(missing)}"


@pytest.fixture(scope="module")
def site(tmp_path_factory) -> Path:
    site_dir = tmp_path_factory.mktemp("site")
    done = subprocess.run(
        [sys.executable, "-m", "mkdocs", "build", "--strict", "--quiet", "--site-dir", str(site_dir)],
        cwd=ROOT, capture_output=True, text=True, timeout=600,
    )
    assert done.returncode == 0, f"mkdocs build --strict failed:\n{done.stdout[-5000:]}{done.stderr[-10_000:]}"
    return site_dir


@pytest.mark.slow
def test_the_site_documents_every_interface_name(site):
    assert (site / "index.html").is_file()
    undocumented = {}
    for brick, names in _interfaces().items():
        page = (site / "components" / brick / "index.html").read_text()
        anchors = set(re.findall(r'id="(janedoe\.[\w.]+)"', page))
        # a name shown under its package, or (when it shares its module's name) under that module
        missing = [name for name in names if f"janedoe.{brick}.{name}" not in anchors
                   and not any(f"janedoe.{brick}.{path.stem}.{name}" in anchors
                               for path in (COMPONENTS / brick).glob("*.py"))]
        if missing:
            undocumented[brick] = missing
    assert not undocumented, f"interface names absent from their component's page: {undocumented}"


@pytest.mark.slow
def test_the_reuse_page_shows_the_example_service(site):
    page = (site / "reuse" / "index.html").read_text()
    assert "create_app" in page and "build_table_masker" in page and "run_query" in page
    assert "TICKETS_SECRET" in page  # the policy file is included too
