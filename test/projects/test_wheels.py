"""Each project builds into a wheel that installs into a fresh venv and runs alone (the Polylith promise)."""

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


def _fresh_venv_with(wheel: Path, where: Path, *pip_options: str, python: str | None = None) -> Path:
    if python is None:
        venv.EnvBuilder(with_pip=True).create(where)
    else:
        subprocess.run([python, "-m", "venv", str(where)], check=True, capture_output=True, timeout=300)
    python = where / "bin" / "python"
    subprocess.run([str(python), "-m", "pip", "install", "--quiet", *pip_options, str(wheel)], check=True,
                   capture_output=True, timeout=900)
    return where / "bin"


def _built_pyspark_wheels() -> list[str]:
    """pip options pointing at the pyspark wheel Poetry built from the registry's sdist for the workspace (building
    it again costs minutes): the same release, from the same source."""
    cache = subprocess.run([str(POETRY), "config", "cache-dir"], capture_output=True, text=True).stdout.strip()
    wheels = sorted(Path(cache).glob("artifacts/**/pyspark-*.whl")) if cache else []
    return ["--find-links", str(wheels[-1].parent)] if wheels else []


@pytest.mark.parametrize("python", [None, *_other_pythons()], ids=lambda path: Path(path).name if path else "this")
def test_cli_wheel_installs_alone_and_masks(tmp_path, python):
    wheel = _build_wheel("janedoe-cli", tmp_path)
    bin_dir = _fresh_venv_with(wheel, tmp_path / "venv", python=python)
    # Only the project's own bricks are in the wheel: no base or component the project does not list.
    installed = subprocess.run([str(bin_dir / "python"), "-c", "import janedoe, pkgutil; "
                                "print(sorted(m.name for m in pkgutil.iter_modules(janedoe.__path__)))"],
                               check=True, capture_output=True, text=True).stdout
    assert "'cli'" in installed and "'masking'" in installed and "'api'" not in installed
    help_run = subprocess.run([str(bin_dir / "janedoe"), "--help"], capture_output=True, text=True)
    assert help_run.returncode == 0, help_run.stderr
    assert "mask" in help_run.stdout

    source = tmp_path / "people.csv"
    source.write_text("email,city\nalice@example.com,Paris\nbob@example.org,Lyon\n", encoding="utf-8")
    policy = tmp_path / "people.yaml"
    policy.write_text("version: 1\ndefault: error\ntables:\n  people:\n    columns:\n"
                      "      email: {mask: partial_email}\n      city: {mask: keep}\n", encoding="utf-8")
    output = tmp_path / "masked.csv"
    run = subprocess.run([str(bin_dir / "janedoe"), "mask", "--policy", str(policy), str(source), str(output)],
                         capture_output=True, text=True, cwd=tmp_path)
    assert run.returncode == 0, run.stderr
    masked = output.read_text(encoding="utf-8")
    assert "alice@example.com" not in masked and "bob@example.org" not in masked
    assert "Paris" in masked and "al" in masked
    ledger = tmp_path / "budgets.db"
    numbers = tmp_path / "ages.csv"
    numbers.write_text("age\n" + "".join(f"{20 + i % 50}\n" for i in range(500)), encoding="utf-8")
    dp_policy = tmp_path / "ages.yaml"
    dp_policy.write_text("version: 1\ntables:\n  ages:\n    dp: {epsilon: 1.0}\n    columns:\n"
                         "      age: {mask: keep, bounds: [0, 100]}\n", encoding="utf-8")
    query = subprocess.run([str(bin_dir / "janedoe"), "dp", "query", str(numbers), "count", "--policy",
                            str(dp_policy), "--epsilon", "0.5", "--ledger", str(ledger), "--analyst", "ana"],
                           capture_output=True, text=True, cwd=tmp_path)
    assert query.returncode == 0, query.stderr
    assert "0.5" in subprocess.run([str(bin_dir / "janedoe"), "dp", "budget", "--ledger", str(ledger)],
                                   capture_output=True, text=True, cwd=tmp_path).stdout


@pytest.mark.parametrize("python", [None, *_other_pythons()[-1:]], ids=lambda path: Path(path).name if path else "this")
def test_api_wheel_installs_alone_and_serves(tmp_path, python):
    wheel = _build_wheel("janedoe-api", tmp_path)
    bin_dir = _fresh_venv_with(wheel, tmp_path / "venv", python=python)
    help_run = subprocess.run([str(bin_dir / "janedoe-api"), "--help"], capture_output=True, text=True)
    assert help_run.returncode == 0, help_run.stderr
    assert "serve" in help_run.stdout
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        port = sock.getsockname()[1]
    state = f"sqlite:///{tmp_path / 'state.db'}"
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


def test_spark_wheel_installs_alone_and_masks_on_spark(tmp_path):
    if shutil.which("java") is None:
        if os.environ.get("CI"):
            pytest.fail("no Java runtime (apt-get install openjdk-17-jre-headless)")
        pytest.skip("no Java runtime")
    wheel = _build_wheel("janedoe-spark", tmp_path)
    bin_dir = _fresh_venv_with(wheel, tmp_path / "venv", *_built_pyspark_wheels())
    installed = subprocess.run([str(bin_dir / "python"), "-c", "import janedoe, pkgutil; "
                                "print(sorted(m.name for m in pkgutil.iter_modules(janedoe.__path__)))"],
                               check=True, capture_output=True, text=True).stdout
    assert "'spark_cli'" in installed and "'spark_engine'" in installed
    assert "'cli'" not in installed and "'api'" not in installed
    source = tmp_path / "people.csv"
    source.write_text("email,city\nalice@example.com,Paris\nbob@example.org,Lyon\n", encoding="utf-8")
    policy = tmp_path / "people.yaml"
    policy.write_text("version: 1\ndefault: error\ntables:\n  people:\n    columns:\n"
                      "      email: {mask: partial_email}\n      city: {mask: keep}\n", encoding="utf-8")
    output = tmp_path / "masked.csv"
    env = {key: value for key, value in os.environ.items() if not key.startswith("PYSPARK")}
    run = subprocess.run([str(bin_dir / "janedoe-spark"), "mask", "--policy", str(policy), "--master", "local[1]",
                          str(source), str(output)], capture_output=True, text=True, cwd=tmp_path, env=env,
                         timeout=300)
    assert run.returncode == 0, run.stderr
    assert "masked 2 rows" in run.stdout
    masked = "".join(part.read_text(encoding="utf-8") for part in sorted(output.glob("part-*.csv")))
    assert "alice@example.com" not in masked and "bob@example.org" not in masked
    assert "Paris" in masked and "al" in masked
