"""Each project builds into a wheel that installs into a fresh venv and runs alone (the Polylith promise)."""

import os
import shutil
import socket
import subprocess
import time
import urllib.request
import venv
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
    target = out_dir / wheels[0].name
    shutil.move(wheels[0], target)
    shutil.rmtree(project_dir / "dist", ignore_errors=True)
    return target


def _fresh_venv_with(wheel: Path, where: Path) -> Path:
    venv.EnvBuilder(with_pip=True).create(where)
    python = where / "bin" / "python"
    subprocess.run([str(python), "-m", "pip", "install", "--quiet", str(wheel)], check=True, capture_output=True,
                   timeout=600)
    return where / "bin"


def test_cli_wheel_installs_alone_and_masks(tmp_path):
    wheel = _build_wheel("janedoe-cli", tmp_path)
    bin_dir = _fresh_venv_with(wheel, tmp_path / "venv")
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


def test_api_wheel_installs_alone_and_serves(tmp_path):
    wheel = _build_wheel("janedoe-api", tmp_path)
    bin_dir = _fresh_venv_with(wheel, tmp_path / "venv")
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
    finally:
        server.terminate()
        server.wait(timeout=30)
