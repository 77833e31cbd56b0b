"""The janedoe Python environment, rebuilt read-only inside the sandbox under /opt/janedoe.

The host interpreter and venv can live anywhere (under /root, which the job's user cannot traverse, or /tmp/ci), so
nothing is bound at its host path: the interpreter's prefix goes to /opt/janedoe/python, the venv's site-packages to
/opt/janedoe/venv, a fresh pyvenv.cfg ties them together, and the folders named by .pth files (the workspace's
components and bases in development) go to /opt/janedoe/src/<n> on PYTHONPATH. No host path leaks into the job.
"""

import os
import sys
import sysconfig
from dataclasses import dataclass
from pathlib import Path

SANDBOX_PYTHON_HOME = "/opt/janedoe/python"
SANDBOX_VENV = "/opt/janedoe/venv"
SANDBOX_SOURCES = "/opt/janedoe/src"
_VERSION = f"{sys.version_info.major}.{sys.version_info.minor}"
SANDBOX_PYTHON = f"{SANDBOX_VENV}/bin/python"
NOTEBOOK_MODULE = "janedoe.sandbox.run_notebook"


@dataclass(frozen=True)
class PythonEnvironment:
    binds: tuple[tuple[Path, str], ...]  # (host path, sandbox path), all read-only
    pyvenv_cfg: str
    symlinks: tuple[tuple[str, str], ...]  # (target, link) inside the sandbox
    variables: tuple[tuple[str, str], ...]


def job_command(entry: str) -> list[str]:
    """The argv running entry (relative to /job) with janedoe's Python; a notebook is executed by nbclient."""
    if not entry or entry.startswith("/") or ".." in Path(entry).parts:
        raise ValueError(f"entry must be a path inside the job folder: {entry!r}")
    if entry.endswith(".ipynb"):
        return [SANDBOX_PYTHON, "-m", NOTEBOOK_MODULE, f"/job/{entry}"]
    return [SANDBOX_PYTHON, f"/job/{entry}"]


def current_python_environment() -> PythonEnvironment:
    base = Path(sys.base_prefix)
    binds = [(base, SANDBOX_PYTHON_HOME)]
    include_system = "true"
    if sys.prefix != sys.base_prefix:
        include_system = "false"
        site_packages = Path(sysconfig.get_path("purelib"))
        relative = site_packages.relative_to(sys.prefix)
        binds.append((site_packages, f"{SANDBOX_VENV}/{relative.as_posix()}"))
    sources = _pth_folders()
    binds += [(folder, f"{SANDBOX_SOURCES}/{n}") for n, folder in enumerate(sources)]
    variables = []
    if sources:
        variables.append(("PYTHONPATH", ":".join(f"{SANDBOX_SOURCES}/{n}" for n in range(len(sources)))))
    if sysconfig.get_config_var("Py_ENABLE_SHARED"):
        variables.append(("LD_LIBRARY_PATH", f"{SANDBOX_PYTHON_HOME}/lib"))  # libpython's RUNPATH is a host path
    executable = f"python{_VERSION}"
    if not (base / "bin" / executable).exists():
        executable = "python3"
    return PythonEnvironment(
        binds=tuple(binds),
        pyvenv_cfg=(
            f"home = {SANDBOX_PYTHON_HOME}/bin\ninclude-system-site-packages = {include_system}\n"
            f"version = {sys.version_info.major}.{sys.version_info.minor}.{sys.version_info.micro}\n"
        ),
        symlinks=(
            (f"{SANDBOX_PYTHON_HOME}/bin/{executable}", SANDBOX_PYTHON),
            ("python", f"{SANDBOX_VENV}/bin/python3"),
            ("python", f"{SANDBOX_VENV}/bin/python{_VERSION}"),
        ),
        variables=tuple(variables),
    )


def _pth_folders() -> list[Path]:
    """Folders that .pth files in the venv add to sys.path (editable installs of the workspace's bricks)."""
    if sys.prefix == sys.base_prefix:
        return []
    folders: list[Path] = []
    for pth in sorted(Path(sysconfig.get_path("purelib")).glob("*.pth")):
        for line in pth.read_text(errors="replace").splitlines():
            line = line.strip()
            if not line or line.startswith(("#", "import ", "import\t")):
                continue
            folder = Path(line) if os.path.isabs(line) else pth.parent / line
            if folder.is_dir() and folder.resolve() not in folders:
                folders.append(folder.resolve())
    return folders
