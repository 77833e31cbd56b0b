"""Each project builds into a wheel; the applications install beside the one library distribution of the components
in any combination, run, and uninstall without touching each other's files."""

import glob
import os
import shutil
import socket
import subprocess
import sys
import time
import urllib.request
import venv
import zipfile
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parents[2]
POETRY = ROOT / ".tools" / "bin" / "poetry"
PROJECTS = ("janedoe-components", "janedoe-cli", "janedoe-api", "janedoe-spark")

pytestmark = pytest.mark.slow


def _build_wheel(project: str, out_dir: Path) -> Path:
    if not POETRY.exists():
        message = f"{POETRY} missing: run `make install` first"
        if os.environ.get("CI"):
            pytest.fail(message)
        pytest.skip(message)
    project_dir = ROOT / "projects" / project
    shutil.rmtree(project_dir / "dist", ignore_errors=True)
    env = {**os.environ, "POETRY_VIRTUALENVS_CREATE": "false"}
    subprocess.run([str(POETRY), "build-project", "-C", str(project_dir), "--format", "wheel"], check=True, env=env,
                   capture_output=True, timeout=300)
    wheels = list((project_dir / "dist").glob("*.whl"))
    assert len(wheels) == 1, wheels
    with zipfile.ZipFile(wheels[0]) as archive:  # every wheel carries the license
        assert any(name.endswith(".dist-info/licenses/LICENSE") for name in archive.namelist())
        # PEP 561: every component brick in the wheel says it is typed
        files = archive.namelist()
        packed = {name.split("/")[1] for name in files if name.startswith("janedoe/") and name.count("/") > 1}
        components = {path.name for path in (ROOT / "components" / "janedoe").iterdir() if path.is_dir()}
        untyped = sorted(b for b in packed & components if f"janedoe/{b}/py.typed" not in files)
        assert not untyped, f"{wheels[0].name}: no py.typed in {untyped}"
    target = out_dir / wheels[0].name
    shutil.move(wheels[0], target)
    shutil.rmtree(project_dir / "dist", ignore_errors=True)
    return target


@pytest.fixture(scope="module")
def wheel_dir(tmp_path_factory) -> Path:
    """Every project's wheel, built once from this checkout: pip finds the library the applications depend on here."""
    out = tmp_path_factory.mktemp("wheels")
    for project in PROJECTS:
        _build_wheel(project, out)
    return out


def _wheel(wheel_dir: Path, project: str) -> Path:
    return next(wheel_dir.glob(project.replace("-", "_") + "-*.whl"))


def _files_in(wheel: Path) -> set[str]:
    with zipfile.ZipFile(wheel) as archive:
        return {name for name in archive.namelist() if ".dist-info/" not in name}


def _other_pythons() -> list[str]:
    """The supported interpreters besides this one (3.11 to 3.13) that the machine has: on PATH, or installed beside
    this interpreter (pyenv's versions folder, whose shims refuse a version that is not selected)."""
    found = []
    for version in ("3.12", "3.13"):
        candidates = [shutil.which(f"python{version}"),
                      *sorted(glob.glob(f"{Path(sys.base_prefix).parent}/{version}*/bin/python{version}"))]
        usable = [path for path in candidates if path and _runs(path)]
        found += usable[:1]
    return found


def _runs(python: str) -> bool:
    return subprocess.run([python, "-c", "pass"], capture_output=True).returncode == 0


def _fresh_venv(where: Path, python: str | None = None) -> Path:
    if python is None:
        venv.EnvBuilder(with_pip=True).create(where)
    else:
        subprocess.run([python, "-m", "venv", str(where)], check=True, capture_output=True, timeout=300)
    return where / "bin"


def _pip(bin_dir: Path, *arguments: str) -> str:
    run = subprocess.run([str(bin_dir / "python"), "-m", "pip", *arguments], capture_output=True, text=True,
                         timeout=900)
    assert run.returncode == 0, run.stdout + run.stderr
    return run.stdout


def _install(bin_dir: Path, wheel_dir: Path, *projects: str, pip_options: tuple[str, ...] = ()) -> None:
    """The applications' wheels, with janedoe-components found beside them (it is not on the package index)."""
    _pip(bin_dir, "install", "--quiet", "--find-links", str(wheel_dir), *pip_options,
         *(str(_wheel(wheel_dir, project)) for project in projects))


def _janedoe_modules(bin_dir: Path) -> str:
    return subprocess.run([str(bin_dir / "python"), "-c", "import janedoe, pkgutil; "
                           "print(sorted(m.name for m in pkgutil.iter_modules(janedoe.__path__)))"],
                          check=True, capture_output=True, text=True).stdout


def _built_pyspark_wheels() -> list[str]:
    """pip options pointing at the pyspark wheel Poetry built from the registry's sdist for the workspace (building
    it again costs minutes): the same release, from the same source."""
    cache = subprocess.run([str(POETRY), "config", "cache-dir"], capture_output=True, text=True).stdout.strip()
    wheels = sorted(Path(cache).glob("artifacts/**/pyspark-*.whl")) if cache else []
    return ("--find-links", str(wheels[-1].parent)) if wheels else ()


PEOPLE = "email,city\nalice@example.com,Paris\nbob@example.org,Lyon\n"
PEOPLE_POLICY = ("version: 1\ndefault: error\ntables:\n  people:\n    columns:\n"
                 "      email: {mask: partial_email}\n      city: {mask: keep}\n")


def _cli_masks_and_counts(bin_dir: Path, work: Path) -> None:
    """The installed `janedoe` masks a file and answers a DP query charged to a ledger."""
    work.mkdir(exist_ok=True)
    help_run = subprocess.run([str(bin_dir / "janedoe"), "--help"], capture_output=True, text=True)
    assert help_run.returncode == 0, help_run.stderr
    assert "mask" in help_run.stdout
    source, policy, output = work / "people.csv", work / "people.yaml", work / "masked.csv"
    source.write_text(PEOPLE, encoding="utf-8")
    policy.write_text(PEOPLE_POLICY, encoding="utf-8")
    run = subprocess.run([str(bin_dir / "janedoe"), "mask", "--policy", str(policy), str(source), str(output)],
                         capture_output=True, text=True, cwd=work)
    assert run.returncode == 0, run.stderr
    masked = output.read_text(encoding="utf-8")
    assert "alice@example.com" not in masked and "bob@example.org" not in masked
    assert "Paris" in masked and "al" in masked
    ledger = work / "budgets.db"
    numbers = work / "ages.csv"
    numbers.write_text("age\n" + "".join(f"{20 + i % 50}\n" for i in range(500)), encoding="utf-8")
    dp_policy = work / "ages.yaml"
    dp_policy.write_text("version: 1\ntables:\n  ages:\n    dp: {epsilon: 1.0}\n    columns:\n"
                         "      age: {mask: keep, bounds: [0, 100]}\n", encoding="utf-8")
    query = subprocess.run([str(bin_dir / "janedoe"), "dp", "query", str(numbers), "count", "--policy",
                            str(dp_policy), "--epsilon", "0.5", "--ledger", str(ledger), "--analyst", "ana"],
                           capture_output=True, text=True, cwd=work)
    assert query.returncode == 0, query.stderr
    assert "0.5" in subprocess.run([str(bin_dir / "janedoe"), "dp", "budget", "--ledger", str(ledger)],
                                   capture_output=True, text=True, cwd=work).stdout


def _api_serves(bin_dir: Path, work: Path) -> None:
    """The installed `janedoe-api` starts, answers its health check and serves its web page's files."""
    work.mkdir(exist_ok=True)
    help_run = subprocess.run([str(bin_dir / "janedoe-api"), "--help"], capture_output=True, text=True)
    assert help_run.returncode == 0, help_run.stderr
    assert "serve" in help_run.stdout
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        port = sock.getsockname()[1]
    state = f"sqlite:///{work / 'state.db'}"
    server = subprocess.Popen([str(bin_dir / "janedoe-api"), "serve", "--host", "127.0.0.1", "--port", str(port),
                               "--state", state], stdout=subprocess.DEVNULL, stderr=subprocess.PIPE)
    try:
        deadline = time.monotonic() + 60
        while True:
            try:
                with urllib.request.urlopen(f"http://127.0.0.1:{port}/v1/health", timeout=2) as response:
                    assert response.status == 200
                    break
            except OSError:
                assert server.poll() is None, server.stderr.read().decode()
                assert time.monotonic() < deadline, "the wheel's server did not answer within 60 s"
                time.sleep(0.3)
        with urllib.request.urlopen(f"http://127.0.0.1:{port}/openapi.json", timeout=5) as response:
            assert "/v1/datasets" in response.read().decode()
        with urllib.request.urlopen(f"http://127.0.0.1:{port}/ui/app.js", timeout=5) as response:
            assert b"sessionStorage" in response.read()  # the web page's files ship inside the wheel
    finally:
        server.terminate()
        server.wait(timeout=30)


def test_no_two_distributions_own_the_same_file(wheel_dir):
    files = {project: _files_in(_wheel(wheel_dir, project)) for project in PROJECTS}
    for index, project in enumerate(PROJECTS):
        for other in PROJECTS[index + 1:]:
            assert not files[project] & files[other], (project, other, sorted(files[project] & files[other])[:5])
    # The library holds every component but Spark's; each application holds its own base (and Spark its engine).
    library = {name.split("/")[1] for name in files["janedoe-components"]}
    components = {path.name for path in (ROOT / "components" / "janedoe").iterdir() if (path / "__init__.py").exists()}
    assert library == components - {"spark_engine"}
    assert {name.split("/")[1] for name in files["janedoe-cli"]} == {"cli"}
    assert {name.split("/")[1] for name in files["janedoe-api"]} == {"api"}
    assert {name.split("/")[1] for name in files["janedoe-spark"]} == {"spark_cli", "spark_engine"}


def test_cli_and_api_install_together_and_uninstall_cleanly(tmp_path, wheel_dir):
    """Either application can be removed without breaking the other, and the library stays whole for other services."""
    bin_dir = _fresh_venv(tmp_path / "venv")
    _install(bin_dir, wheel_dir, "janedoe-cli", "janedoe-api")
    _pip(bin_dir, "check")
    _cli_masks_and_counts(bin_dir, tmp_path / "both-cli")
    _api_serves(bin_dir, tmp_path / "both-api")

    _pip(bin_dir, "uninstall", "--yes", "janedoe-api")
    assert not (bin_dir / "janedoe-api").exists()
    installed = _janedoe_modules(bin_dir)
    assert "'api'" not in installed and "'masking'" in installed and "'service_store'" in installed
    _pip(bin_dir, "check")
    _cli_masks_and_counts(bin_dir, tmp_path / "cli-alone")

    _install(bin_dir, wheel_dir, "janedoe-api")
    _pip(bin_dir, "uninstall", "--yes", "janedoe-cli")
    assert not (bin_dir / "janedoe").exists()
    _pip(bin_dir, "check")
    _api_serves(bin_dir, tmp_path / "api-alone")

    _pip(bin_dir, "uninstall", "--yes", "janedoe-api")
    # The library alone: every component imports (what a third-party service reuses).
    components = sorted(path.name for path in (ROOT / "components" / "janedoe").iterdir()
                        if (path / "__init__.py").exists() and path.name != "spark_engine")
    imports = "; ".join(f"import janedoe.{name}" for name in components)
    run = subprocess.run([str(bin_dir / "python"), "-c", imports], capture_output=True, text=True)
    assert run.returncode == 0, run.stderr
    _pip(bin_dir, "uninstall", "--yes", "janedoe-components")
    assert _janedoe_modules(bin_dir).strip() == "[]"  # nothing left behind


@pytest.mark.parametrize("python", _other_pythons(), ids=lambda path: Path(path).name)
def test_cli_and_api_wheels_run_on_other_pythons(tmp_path, wheel_dir, python):
    bin_dir = _fresh_venv(tmp_path / "venv", python=python)
    _install(bin_dir, wheel_dir, "janedoe-cli", "janedoe-api")
    installed = _janedoe_modules(bin_dir)
    assert "'cli'" in installed and "'api'" in installed and "'masking'" in installed
    assert "'spark_engine'" not in installed
    _cli_masks_and_counts(bin_dir, tmp_path / "cli")
    _api_serves(bin_dir, tmp_path / "api")


def test_spark_wheel_installs_and_masks_on_spark(tmp_path, wheel_dir):
    if shutil.which("java") is None:
        if os.environ.get("CI"):
            pytest.fail("no Java runtime (apt-get install openjdk-17-jre-headless)")
        pytest.skip("no Java runtime")
    bin_dir = _fresh_venv(tmp_path / "venv")
    _install(bin_dir, wheel_dir, "janedoe-spark", pip_options=_built_pyspark_wheels())
    installed = _janedoe_modules(bin_dir)
    assert "'spark_cli'" in installed and "'spark_engine'" in installed
    assert "'cli'" not in installed and "'api'" not in installed
    source, policy, output = tmp_path / "people.csv", tmp_path / "people.yaml", tmp_path / "masked.csv"
    source.write_text(PEOPLE, encoding="utf-8")
    policy.write_text(PEOPLE_POLICY, encoding="utf-8")
    env = {key: value for key, value in os.environ.items() if not key.startswith("PYSPARK")}
    run = subprocess.run([str(bin_dir / "janedoe-spark"), "mask", "--policy", str(policy), "--master", "local[1]",
                          str(source), str(output)], capture_output=True, text=True, cwd=tmp_path, env=env,
                         timeout=300)
    assert run.returncode == 0, run.stderr
    assert "masked 2 rows" in run.stdout
    masked = "".join(part.read_text(encoding="utf-8") for part in sorted(output.glob("part-*.csv")))
    assert "alice@example.com" not in masked and "bob@example.org" not in masked
    assert "Paris" in masked and "al" in masked
