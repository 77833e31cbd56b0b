"""Workspace-wide fixtures. The PostgreSQL cluster is real: Debian's binaries, a throwaway data directory, 127.0.0.1."""

import glob
import os
import shutil
import socket
import subprocess
import tempfile
import time
import uuid

import pytest

# Faker pools are cached on disk (masking.pool_cache): the tests keep theirs inside the checkout, never in $HOME.
os.environ.setdefault("JANEDOE_CACHE_DIR", os.path.join(os.path.dirname(os.path.dirname(__file__)), ".cache"))


def _postgres_bin_dir() -> str | None:
    candidates = sorted(glob.glob("/usr/lib/postgresql/*/bin/initdb"), reverse=True)
    if candidates:
        return os.path.dirname(candidates[0])
    initdb = shutil.which("initdb")
    return os.path.dirname(initdb) if initdb else None


def _free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return sock.getsockname()[1]


def _as_cluster_owner(argv: list[str]) -> list[str]:
    # initdb and postgres refuse to run as root: hand them to the postgres system user.
    if os.geteuid() == 0:
        return ["runuser", "-u", "postgres", "--", *argv]
    return argv


@pytest.fixture(scope="session")
def postgres_server():
    """A running PostgreSQL server; yields its admin URL. Missing binaries skip locally and fail in CI."""
    bin_dir = _postgres_bin_dir()
    if bin_dir is None:
        message = "PostgreSQL binaries not found (apt-get install postgresql)"
        if os.environ.get("CI"):
            pytest.fail(message)
        pytest.skip(message)
    data_root = tempfile.mkdtemp(prefix="janedoe-pg-")
    os.chmod(data_root, 0o777)
    data_dir = os.path.join(data_root, "data")
    port = _free_port()
    subprocess.run(
        _as_cluster_owner([f"{bin_dir}/initdb", "-D", data_dir, "-U", "postgres", "--auth=trust", "-E", "UTF8"]),
        check=True,
        capture_output=True,
    )
    options = f"-c listen_addresses=127.0.0.1 -p {port} -k {data_root} -c fsync=off -c max_connections=200"
    subprocess.run(
        _as_cluster_owner(
            [f"{bin_dir}/pg_ctl", "-D", data_dir, "-o", options, "-l", f"{data_root}/log", "-w", "start"]
        ),
        check=True,
        capture_output=True,
    )
    deadline = time.monotonic() + 30
    while time.monotonic() < deadline:
        ready = subprocess.run([f"{bin_dir}/pg_isready", "-h", "127.0.0.1", "-p", str(port)], capture_output=True)
        if ready.returncode == 0:
            break
        time.sleep(0.2)
    try:
        yield f"postgresql://postgres@127.0.0.1:{port}/postgres"
    finally:
        subprocess.run(
            _as_cluster_owner([f"{bin_dir}/pg_ctl", "-D", data_dir, "-m", "immediate", "stop"]), capture_output=True
        )
        shutil.rmtree(data_root, ignore_errors=True)


@pytest.fixture
def postgres_url(postgres_server):
    """A fresh, empty database on the session's server, for one test."""
    import psycopg

    name = f"t_{uuid.uuid4().hex[:12]}"
    with psycopg.connect(postgres_server, autocommit=True) as conn:
        conn.execute(f'CREATE DATABASE "{name}"')
    yield postgres_server.rsplit("/", 1)[0] + f"/{name}"
    with psycopg.connect(postgres_server, autocommit=True) as conn:
        conn.execute(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)')


@pytest.fixture(scope="session")
def spark():
    """One local[2] Spark session for the whole run (start-up costs 10-50 s here). Missing Java skips locally and
    fails in CI."""
    if shutil.which("java") is None:
        message = "no Java runtime (apt-get install openjdk-17-jre-headless)"
        if os.environ.get("CI"):
            pytest.fail(message)
        pytest.skip(message)
    from janedoe.spark_engine import spark_session

    session = spark_session("local[2]", ui=False, settings={"spark.sql.shuffle.partitions": "4",
                                                               "spark.default.parallelism": "4"})
    yield session
    session.stop()
