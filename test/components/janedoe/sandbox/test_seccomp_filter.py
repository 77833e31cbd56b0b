import errno
import re
import struct
from pathlib import Path

import pytest
from janedoe.sandbox.availability import probe_sandbox
from janedoe.sandbox.seccomp_filter import (
    AUDIT_ARCH_AARCH64,
    AUDIT_ARCH_X86_64,
    CLONE_NEWUSER,
    REFUSED,
    SYSCALL_NUMBERS,
    seccomp_program,
)

ALLOW, KILL = 0x7FFF0000, 0x80000000
EPERM, ENOSYS = 0x00050000 | errno.EPERM, 0x00050000 | errno.ENOSYS
AUDIT_ARCH_I386 = 0x40000003
HEADERS = {
    0: Path("/usr/include/x86_64-linux-gnu/asm/unistd_64.h"),
    1: Path("/usr/include/asm-generic/unistd.h"),  # aarch64 uses the generic table
}


def instructions() -> list[tuple[int, int, int, int]]:
    return list(struct.iter_unpack("=HBBI", seccomp_program()))


def decide(arch: int, nr: int, arg0: int = 0) -> int:
    """What the kernel would return: a classic-BPF interpreter for the four instructions the program uses."""
    data = struct.pack("=iIQ6Q", nr, arch, 0, arg0, 0, 0, 0, 0, 0)
    program, pc, accumulator = instructions(), 0, 0
    while True:
        code, jt, jf, k = program[pc]
        if code == 0x20:
            accumulator = struct.unpack_from("=I", data, k)[0]
        elif code == 0x06:
            return k
        else:
            holds = {0x15: accumulator == k, 0x35: accumulator >= k, 0x45: accumulator & k != 0}[code]
            pc += jt if holds else jf
        pc += 1


def test_the_program_is_exactly_this_long_and_starts_with_the_architecture_check():
    program = instructions()
    assert len(seccomp_program()) == 8 * 97 and len(program) == 97
    assert program[0] == (0x20, 0, 0, 4)  # load seccomp_data.arch
    assert program[1] == (0x15, 1, 0, 0xC000003E)  # x86_64: skip to its rules
    assert program[2] == (0x15, 44, 93, 0xC00000B7)  # aarch64: its rules at 47; anything else: the last, kill
    assert program[3] == (0x20, 0, 0, 0)  # load seccomp_data.nr
    assert program[4] == (0x35, 91, 0, 0x40000000)  # x32 syscall: kill
    assert program[5] == (0x15, 82, 0, 56)  # clone: to the CLONE_NEWUSER check at 88
    assert program[88:90] == [(0x20, 0, 0, 16), (0x45, 4, 3, 0x10000000)]  # arg 0's low word & CLONE_NEWUSER
    assert program[-4:] == [(0x06, 0, 0, ALLOW), (0x06, 0, 0, EPERM), (0x06, 0, 0, ENOSYS), (0x06, 0, 0, KILL)]


@pytest.mark.parametrize("column,arch", [(0, AUDIT_ARCH_X86_64), (1, AUDIT_ARCH_AARCH64)], ids=["x86_64", "aarch64"])
def test_each_architecture_refuses_new_user_namespaces_and_the_listed_syscalls_and_allows_the_rest(column, arch):
    number = {name: pair[column] for name, pair in SYSCALL_NUMBERS.items()}
    for name in ("clone", "unshare"):
        assert decide(arch, number[name], CLONE_NEWUSER | 0x11) == EPERM
        assert decide(arch, number[name], 0x003D0F00) == ALLOW  # pthread_create's flags
        assert decide(arch, number[name], (1 << 40) | 0x11) == ALLOW  # high word ignored: no flag lives there
    assert decide(arch, number["clone3"]) == ENOSYS
    assert decide(arch, number["personality"], 0) == ALLOW
    assert decide(arch, number["personality"], 0xFFFFFFFF) == ALLOW
    assert decide(arch, number["personality"], 0x0040000) == EPERM  # ADDR_NO_RANDOMIZE
    refused = {number[name] for name in REFUSED if number[name] is not None}
    assert len(refused) == len(REFUSED) - (2 if column == 1 else 0)  # aarch64 has no iopl, ioperm
    for nr in range(0, 600):
        expected = EPERM if nr in refused else ENOSYS if nr == number["clone3"] else ALLOW
        if nr not in (number["clone"], number["unshare"], number["personality"]):
            assert decide(arch, nr, CLONE_NEWUSER) == expected, nr


def test_other_architectures_and_x32_syscalls_are_killed():
    assert decide(AUDIT_ARCH_I386, 39) == KILL  # int 0x80 from a 64-bit process: numbers of another table
    assert decide(0x40000028, 120) == KILL  # arm32
    assert decide(AUDIT_ARCH_X86_64, 0x40000000 | 39) == KILL
    assert decide(AUDIT_ARCH_X86_64, 39) == ALLOW and decide(AUDIT_ARCH_AARCH64, 172) == ALLOW  # getpid


@pytest.mark.parametrize("column", [0, 1], ids=["x86_64", "aarch64"])
def test_the_syscall_numbers_are_the_kernel_headers_ones(column):
    header = HEADERS[column]
    if not header.exists():
        pytest.skip(f"{header} not installed (linux-libc-dev)")
    defined = dict(re.findall(r"^#define __NR_(\w+)\s+(\d+)\s*$", header.read_text(), flags=re.MULTILINE))
    for name, pair in SYSCALL_NUMBERS.items():
        assert pair[column] == (int(defined[name]) if name in defined else None), name
    sched = Path("/usr/include/linux/sched.h")
    if sched.exists():
        assert f"CLONE_NEWUSER\t\t{CLONE_NEWUSER:#010x}" in sched.read_text()


def test_a_filter_the_kernel_refuses_is_reported_by_the_availability_probe():
    if probe_sandbox(seccomp_program()) is not None:
        pytest.skip(f"no sandbox: {probe_sandbox(seccomp_program())}")
    not_returning = struct.pack("=HBBI", 0x20, 0, 0, 0)  # a program must end with a return
    reason = probe_sandbox(not_returning)
    assert reason is not None and reason.startswith("the kernel refuses the sandbox's seccomp filter: ")
    assert "\n" not in reason
