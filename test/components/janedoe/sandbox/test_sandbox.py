import ctypes
import json
import os
import signal
import socket
import stat
import struct
import sys
import threading
import time
import uuid
from pathlib import Path

import nbformat
import pytest
from janedoe.errors import JaneDoeInputError
from janedoe.sandbox import (
    SANDBOX_PYTHON,
    ResourceLimits,
    SandboxMounts,
    basic_environment,
    job_command,
    output_files,
    run_in_sandbox,
    sandbox_available,
)

REASON = sandbox_available()
needs_bwrap = pytest.mark.skipif(REASON is not None and REASON.startswith("bwrap not installed"), reason=REASON or "")


@pytest.fixture
def folders(tmp_path):
    code, output, data = tmp_path / "code", tmp_path / "output", tmp_path / "data"
    for folder in (code, output, data):
        folder.mkdir()
        folder.chmod(0o755)
    tmp_path.chmod(0o755)
    (data / "people.csv").write_text("id,age\n1,40\n")
    (data / "people.csv").chmod(0o644)
    return code, output, data


def run(folders, source: str, *, limits=None, env=None, cancel=None, mounts=None, entry="job.py"):
    """Runs source as /job/<entry>: a marker in entry shows in the command line of every process the job forks."""
    code, output, data = folders
    (code / entry).write_text(source)
    (code / entry).chmod(0o644)
    mounts = mounts or SandboxMounts(code, output, {"tables": data, "people.csv": data / "people.csv"})
    log = code.parent / "job.log"
    outcome = run_in_sandbox(
        job_command(entry), mounts, limits or ResourceLimits(), log_path=log, env=env, cancel=cancel
    )
    return outcome, log.read_text(errors="replace")


def leftovers(marker: str) -> list[int]:
    found = []
    for name in os.listdir("/proc"):
        try:
            if name.isdigit() and marker.encode() in Path(f"/proc/{name}/cmdline").read_bytes():
                found.append(int(name))
        except OSError:
            pass
    return found


# --- without bwrap --------------------------------------------------------------------------------------------------


def test_job_command_runs_scripts_and_notebooks_with_the_sandbox_python():
    assert job_command("analysis.py") == [SANDBOX_PYTHON, "/job/analysis.py"]
    assert job_command("nb/explore.ipynb") == [
        SANDBOX_PYTHON,
        "-m",
        "janedoe.sandbox.run_notebook",
        "/job/nb/explore.ipynb",
    ]
    for bad in ("/etc/passwd", "../x.py", ""):
        with pytest.raises(ValueError):
            job_command(bad)


def test_output_files_lists_regular_files_and_refuses_links_and_fifos(tmp_path):
    (tmp_path / "sub").mkdir()
    (tmp_path / "a.csv").write_text("x")
    (tmp_path / "sub" / "b.txt").write_text("y")
    assert output_files(tmp_path) == [tmp_path / "a.csv", tmp_path / "sub" / "b.txt"]
    (tmp_path / "sub" / "escape").symlink_to("/etc/passwd")
    with pytest.raises(JaneDoeInputError, match="output/sub/escape"):
        output_files(tmp_path)
    (tmp_path / "sub" / "escape").unlink()
    os.link(tmp_path / "a.csv", tmp_path / "second-name.csv")
    with pytest.raises(JaneDoeInputError, match="hard-linked"):
        output_files(tmp_path)
    (tmp_path / "second-name.csv").unlink()
    os.mkfifo(tmp_path / "pipe")
    with pytest.raises(JaneDoeInputError, match="output/pipe"):
        output_files(tmp_path)


def test_the_basic_environment_holds_no_caller_variable(monkeypatch):
    monkeypatch.setenv("JANEDOE_SECRET_KEY", "s3cr3t-basic")
    variables = basic_environment(ResourceLimits())
    assert "JANEDOE_SECRET_KEY" not in variables and "s3cr3t-basic" not in variables.values()


# --- in the sandbox -------------------------------------------------------------------------------------------------


@needs_bwrap
def test_network_is_unreachable_even_the_hosts_loopback(folders):
    server = socket.socket()
    server.bind(("127.0.0.1", 0))
    server.listen()
    port = server.getsockname()[1]
    try:
        outcome, log = run(
            folders,
            f"""
import socket
for address in [("127.0.0.1", {port}), ("1.1.1.1", 53), ("8.8.8.8", 443)]:
    try:
        socket.create_connection(address, timeout=2)
        print("CONNECTED", address)
    except OSError as error:
        print("blocked", address, error.errno)
""",
        )
    finally:
        server.close()
    assert outcome.state == "succeeded", log
    assert "CONNECTED" not in log and log.count("blocked") == 3


@needs_bwrap
def test_code_data_and_environment_are_read_only_and_only_output_and_tmp_are_writable(folders):
    outcome, log = run(
        folders,
        """
import os
places = ["/", "/job", "/data", "/data/tables", "/etc", "/usr", "/opt/janedoe/venv", "/opt/janedoe/python/lib",
          "/opt/janedoe/src/0", "/dev", "/proc/sys", "/output", "/tmp"]
for mount in open("/proc/self/mounts").read().split("\\n"):
    if mount and os.path.isdir(mount.split()[1]) and not mount.split()[1].startswith(("/proc/", "/dev/")):
        places.append(mount.split()[1])
writable = set()
for place in places:
    try:
        with open(os.path.join(place, "probe.txt"), "w") as probe:
            probe.write("x")
        writable.add(place)
    except OSError:
        pass
for target in ["/data/people.csv", "/data/tables/people.csv", "/job/job.py"]:
    try:
        open(target, "a").write("x")
        writable.add(target)
    except OSError:
        pass
print("WRITABLE", sorted(writable))
""",
    )
    assert outcome.state == "succeeded", log
    assert "WRITABLE ['/output', '/tmp']" in log
    assert (folders[2] / "people.csv").read_text() == "id,age\n1,40\n"


@needs_bwrap
def test_the_job_sees_only_the_given_environment(folders, monkeypatch):
    monkeypatch.setenv("JANEDOE_FAKE_SECRET", "s3cr3t-value")
    outcome, log = run(
        folders, "import json, os; print('ENV', json.dumps(dict(os.environ)))", env={"JANEDOE_JOB_STAGE": "2"}
    )
    assert outcome.state == "succeeded", log
    seen = json.loads(log.split("ENV ", 1)[1])
    assert seen["JANEDOE_JOB_STAGE"] == "2"
    assert "s3cr3t-value" not in log and "JANEDOE_FAKE_SECRET" not in seen
    allowed = set(basic_environment(ResourceLimits())) | {"JANEDOE_JOB_STAGE", "PYTHONPATH", "LD_LIBRARY_PATH", "PWD"}
    assert set(seen) <= allowed


@needs_bwrap
def test_the_job_runs_unprivileged_and_sees_nothing_outside_its_binds(folders, tmp_path):
    secret = tmp_path / "secret.txt"
    secret.write_text("do not read")
    secret.chmod(0o644)
    marker = uuid.uuid4().hex
    result = {}
    source = f"""
import os, time
# {marker}
for path in [{str(secret)!r}, "/root", "/work", "/home", {sys.prefix!r}, "/etc/shadow"]:
    print("EXISTS" if os.path.exists(path) else "absent", path)
print("UID", os.getuid(), os.geteuid())
open("/output/ready", "w").close()
time.sleep(1.5)
"""
    thread = threading.Thread(target=lambda: result.update(log=run(folders, source, entry=f"job_{marker}.py")))
    thread.start()
    deadline = time.monotonic() + 30
    while not (folders[1] / "ready").exists() and time.monotonic() < deadline:
        time.sleep(0.05)
    host_uids = set()
    for pid in leftovers(marker):
        if Path(f"/proc/{pid}/comm").read_text().strip() == "bwrap":
            continue  # bwrap itself runs as root to set up the binds; the job must not
        status = Path(f"/proc/{pid}/status").read_text()
        host_uids.update(int(uid) for uid in status.split("Uid:")[1].split("\n")[0].split())
    thread.join()
    outcome, log = result["log"]
    assert outcome.state == "succeeded", log
    assert host_uids and 0 not in host_uids  # real, effective, saved and fs uid on the host
    assert "EXISTS" not in log and "UID 0" not in log


@needs_bwrap
@pytest.mark.parametrize(
    "limits,source,state",
    [
        (ResourceLimits(cpu_seconds=1), "while True: pass", "cpu_limit"),
        (ResourceLimits(memory_bytes=256 * 2**20), "block = bytearray(512 * 2**20)", "memory_limit"),
        (
            ResourceLimits(file_size_bytes=2**20),
            "open('/output/big.bin', 'wb').write(bytes(2 * 2**20))",
            "file_size_limit",
        ),
    ],
    ids=["cpu", "memory", "file_size"],
)
def test_each_limit_ends_the_job_with_its_state(folders, limits, source, state):
    outcome, log = run(folders, source, limits=limits)
    assert outcome.state == state, log
    if state == "file_size_limit":
        assert (folders[1] / "big.bin").stat().st_size <= 2**20


@needs_bwrap
def test_a_fork_bomb_is_bounded_and_leaves_no_process_behind(folders):
    marker = uuid.uuid4().hex
    outcome, log = run(
        folders,
        f"""
import os, time
# {marker}
while True:
    try:
        os.fork()
    except OSError:
        time.sleep(0.01)
""",
        limits=ResourceLimits(max_processes=16, wall_seconds=30),
        entry=f"job_{marker}.py",
    )
    assert outcome.state == "process_limit", log
    assert outcome.seconds < 20
    assert leftovers(marker) == []


@needs_bwrap
def test_the_wall_clock_kills_children_that_ignore_sigterm_and_left_the_session(folders):
    marker = uuid.uuid4().hex
    outcome, log = run(
        folders,
        f"""
import os, signal, subprocess, sys, time
child = "import os, signal, time; os.setsid(); signal.signal(signal.SIGTERM, signal.SIG_IGN); time.sleep(600)"
child += "  # {marker}"
subprocess.Popen([sys.executable, "-c", child], start_new_session=True)
signal.signal(signal.SIGTERM, signal.SIG_IGN)
time.sleep(600)  # {marker}
""",
        limits=ResourceLimits(wall_seconds=3),
        entry=f"job_{marker}.py",
    )
    assert outcome.state == "wall_limit", log
    assert outcome.exit_code is None and 3 <= outcome.seconds < 15
    assert leftovers(marker) == []


@needs_bwrap
def test_cancel_stops_the_job(folders):
    cancel = threading.Event()
    threading.Timer(1.5, cancel.set).start()
    outcome, log = run(folders, "import time; time.sleep(600)", cancel=cancel)
    assert outcome.state == "cancelled", log
    assert outcome.seconds < 15


@needs_bwrap
def test_links_the_job_leaves_in_output_are_refused(folders):
    outcome, log = run(
        folders,
        """
import os
open("/output/table.csv", "w").write("a\\n1\\n")
os.symlink("/data/people.csv", "/output/escape.csv")
os.link("/output/table.csv", "/output/second.csv")
try:
    os.link("/data/people.csv", "/output/data-link.csv")
    print("HARDLINKED DATA")
except OSError as error:
    print("cross-mount link refused", error.errno)
os.chmod("/output/table.csv", 0o4755)
""",
    )
    assert outcome.state == "succeeded", log
    assert "HARDLINKED DATA" not in log
    output = folders[1]
    assert (output / "escape.csv").is_symlink() and (output / "table.csv").stat().st_uid == os.getuid()
    assert not (output / "table.csv").stat().st_mode & stat.S_ISUID  # setuid bit dropped when handed back
    with pytest.raises(JaneDoeInputError):
        output_files(output)
    (output / "escape.csv").unlink()
    with pytest.raises(JaneDoeInputError, match="hard-linked"):
        output_files(output)
    (output / "second.csv").unlink()
    assert output_files(output) == [output / "table.csv"]


@needs_bwrap
def test_a_script_and_a_notebook_job_write_their_outputs(folders):
    code, output, data = folders
    outcome, log = run(
        folders,
        "import csv; rows = list(csv.reader(open('/data/people.csv')))\n"
        "open('/output/count.txt', 'w').write(str(len(rows) - 1))",
    )
    assert outcome.state == "succeeded", log
    assert (output / "count.txt").read_text() == "1"
    notebook = nbformat.v4.new_notebook()
    notebook.cells = [
        nbformat.v4.new_code_cell(
            "rows = open('/data/tables/people.csv').read().splitlines()\n"
            "open('/output/from_notebook.txt', 'w').write(str(len(rows)))\n"
            "print('rows', len(rows))"
        )
    ]
    nbformat.write(notebook, code / "explore.ipynb")
    (code / "explore.ipynb").chmod(0o644)
    mounts = SandboxMounts(code, output, {"tables": data})
    outcome = run_in_sandbox(job_command("explore.ipynb"), mounts, ResourceLimits(), log_path=code.parent / "nb.log")
    assert outcome.state == "succeeded", (code.parent / "nb.log").read_text()
    assert (output / "from_notebook.txt").read_text() == "2"
    executed = nbformat.read(output / "explore.executed.ipynb", as_version=4)
    assert executed.cells[0].outputs[0]["text"] == "rows 2\n"


@needs_bwrap
def test_the_broker_socket_is_the_jobs_only_way_out(folders, tmp_path):
    path = tmp_path / "broker.sock"
    server = socket.socket(socket.AF_UNIX)
    server.bind(str(path))
    server.listen()

    def answer():
        connection, _ = server.accept()
        with connection:
            connection.sendall(connection.recv(100).upper())

    thread = threading.Thread(target=answer, daemon=True)
    thread.start()
    code, output, data = folders
    outcome, log = run(
        folders,
        """
import socket
client = socket.socket(socket.AF_UNIX)
client.connect("/run/janedoe/broker.sock")
client.sendall(b"ping")
print("REPLY", client.recv(100).decode())
""",
        mounts=SandboxMounts(code, output, broker_socket=path),
    )
    server.close()
    assert outcome.state == "succeeded", log
    assert "REPLY PING" in log
    assert path.stat().st_uid == os.getuid()  # lent to the job's uid, given back


@needs_bwrap
def test_bad_mounts_are_refused_before_anything_runs(folders, tmp_path):
    code, output, data = folders
    with pytest.raises(JaneDoeInputError, match="data"):
        run(folders, "pass", mounts=SandboxMounts(code, output, {"../escape": data}))
    with pytest.raises(JaneDoeInputError, match="output_dir"):
        run(folders, "pass", mounts=SandboxMounts(code, tmp_path / "missing"))
    if os.geteuid() == 0:
        (data / "people.csv").chmod(0o600)
        with pytest.raises(JaneDoeInputError, match="people.csv"):
            run(folders, "pass")


@needs_bwrap
def test_the_log_is_capped_but_the_job_keeps_running(folders):
    code, output, data = folders
    (code / "job.py").write_text("import sys\nsys.stdout.write('x' * 3 * 2**20)\nprint('DONE', file=sys.stderr)\n")
    (code / "job.py").chmod(0o644)
    log = code.parent / "capped.log"
    outcome = run_in_sandbox(
        job_command("job.py"), SandboxMounts(code, output), ResourceLimits(), log_path=log, log_limit_bytes=2**16
    )
    assert outcome.state == "succeeded"
    assert 2**16 <= log.stat().st_size < 2**16 + 200 and b"log truncated" in log.read_bytes()


def unprivileged_user_namespaces() -> str | None:
    """None when an unprivileged process may create a user namespace here (what the seccomp filter stops)."""
    libc = ctypes.CDLL(None, use_errno=True)
    pid = os.fork()
    if pid == 0:  # the child does nothing but these syscalls
        code = 1
        try:
            if os.geteuid() == 0:
                os.setgroups([])
                os.setgid(65534)
                os.setuid(65534)
            code = 0 if libc.unshare(0x10000000) == 0 else 1  # CLONE_NEWUSER
        finally:
            os._exit(code)
    allowed = os.waitstatus_to_exitcode(os.waitpid(pid, 0)[1]) == 0
    return None if allowed else "this kernel refuses unprivileged user namespaces: the test could not fail unfiltered"


@needs_bwrap
def test_the_job_cannot_create_user_namespaces_nor_make_the_refused_syscalls(folders):
    refused_anyway = unprivileged_user_namespaces()
    if refused_anyway is not None:
        pytest.skip(refused_anyway)
    outcome, log = run(
        folders,
        """
import ctypes, errno, json, os, subprocess, sys
libc = ctypes.CDLL(None, use_errno=True)
libc.syscall.restype = ctypes.c_long
results = {}

def call(name, nr, *args):
    ctypes.set_errno(0)
    result = libc.syscall(ctypes.c_long(nr), *[ctypes.c_long(a) if isinstance(a, int) else a for a in args])
    if name == "clone" and result == 0:
        os._exit(0)  # the child, had the filter let it through
    if name == "clone" and result > 0:
        os.waitpid(result, 0)
    results[name] = "ok" if result >= 0 else errno.errorcode[ctypes.get_errno()]

buffer = ctypes.create_string_buffer(8)
iovec = (ctypes.c_void_p * 2)(ctypes.addressof(buffer), 8)
call("clone", 56, 0x10000000 | 17, 0, 0, 0, 0)  # CLONE_NEWUSER | SIGCHLD
call("clone3", 435, 0, 0)
call("setns", 308, -1, 0)
call("bpf", 321, 0, 0, 0)
call("userfaultfd", 323, 1)  # UFFD_USER_MODE_ONLY
call("process_vm_readv", 310, os.getpid(), iovec, 1, iovec, 1, 0)
call("personality_query", 135, 0xFFFFFFFF)
call("personality_no_aslr", 135, 0x0040000)
x32 = subprocess.run([sys.executable, "-c", "import ctypes; ctypes.CDLL(None).syscall(0x40000000 | 39)"])
results["x32_getpid"] = x32.returncode
call("unshare", 272, 0x10000000)
call("ptrace", 101, 0, 0, 0, 0)  # PTRACE_TRACEME: last, a traced job stops at its next signal
print("RESULTS", json.dumps(results, sort_keys=True))
""",
    )
    assert outcome.state == "succeeded", log
    assert json.loads(log.split("RESULTS ", 1)[1]) == {
        "bpf": "EPERM",
        "clone": "EPERM",
        "clone3": "ENOSYS",
        "personality_no_aslr": "EPERM",
        "personality_query": "ok",
        "process_vm_readv": "EPERM",
        "ptrace": "EPERM",
        "setns": "EPERM",
        "unshare": "EPERM",
        "userfaultfd": "EPERM",
        "x32_getpid": -signal.SIGSYS,
    }


@needs_bwrap
def test_threads_subprocesses_forks_numpy_and_pyarrow_still_work_under_the_filter(folders):
    outcome, log = run(
        folders,
        """
import concurrent.futures, os, subprocess, sys
import numpy as np
import pyarrow as pa
import pyarrow.compute as pc
with concurrent.futures.ThreadPoolExecutor(4) as pool:
    sums = list(pool.map(lambda n: int(np.arange(n).sum()), [10, 100, 1000, 10000]))
child = subprocess.run([sys.executable, "-c", "print(6 * 7)"], capture_output=True, text=True, check=True)
pid = os.fork()
if pid == 0:
    os._exit(3)
forked = os.waitstatus_to_exitcode(os.waitpid(pid, 0)[1])
table = pa.table({"age": pa.array([40, 31, 58])})
print("WORKLOAD", sums, child.stdout.strip(), forked, pc.sum(table["age"]).as_py())
""",
    )
    assert outcome.state == "succeeded", log
    assert "WORKLOAD [45, 4950, 499500, 49995000] 42 3 129" in log


@needs_bwrap
def test_a_filter_the_kernel_refuses_stops_the_job_before_it_runs(folders, monkeypatch):
    not_returning = struct.pack("=HBBI", 0x20, 0, 0, 0)  # the kernel refuses a program that does not end in a return
    monkeypatch.setattr("janedoe.sandbox.command.seccomp_program", lambda: not_returning)
    outcome, log = run(folders, "open('/output/ran.txt', 'w').write('unfiltered')")
    assert outcome.state == "failed" and outcome.exit_code != 0, log
    assert not (folders[1] / "ran.txt").exists()
    # Only bwrap's error (its two processes may both print it, interleaved): the job never started
    assert "PR_SET_SECCOMP" in log and "Traceback" not in log and len(log.strip().splitlines()) <= 2, repr(log)
