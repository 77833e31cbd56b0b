"""The seccomp-BPF program bwrap installs (--seccomp FD) before the job's first instruction.

Its main job: no new user namespace. As root, bwrap runs without a user namespace of its own, so --disable-userns is
not available and a job could otherwise create one, gaining every capability inside it and with them the reach of
much more kernel code (netfilter, mounts of filesystem types...). It also refuses a short list of syscalls a
data-analysis job never needs, and everything from another architecture or ABI. Everything else is allowed.

Classic BPF over struct seccomp_data (nr, arch, instruction_pointer, args[6]), one program for x86_64 and aarch64.
"""

import errno
import functools
import struct
from dataclasses import dataclass

AUDIT_ARCH_X86_64 = 0xC000003E  # EM_X86_64 | 64-bit | little-endian (linux/audit.h)
AUDIT_ARCH_AARCH64 = 0xC00000B7  # EM_AARCH64 | 64-bit | little-endian
X32_SYSCALL_BIT = 0x40000000  # x32 ABI syscalls on x86_64: a second table of numbers the rules below do not name
CLONE_NEWUSER = 0x10000000
PERSONALITY_QUERY = 0xFFFFFFFF  # personality(0xffffffff) reads the persona without changing it

RET_KILL_PROCESS = 0x80000000
RET_ERRNO = 0x00050000
RET_ALLOW = 0x7FFF0000

# struct seccomp_data offsets; args are 64-bit and both architectures little-endian, so +16 is arg 0's low word,
# where all the flags checked here live (the kernel reads personality as 32 bits)
_NR, _ARCH, _ARG0_LOW = 0, 4, 16
# classic BPF opcodes: load a 32-bit word of seccomp_data, compare with a constant, return a constant
_LOAD_WORD = 0x20  # BPF_LD | BPF_W | BPF_ABS
_JUMP_EQUAL = 0x15  # BPF_JMP | BPF_JEQ | BPF_K
_JUMP_AT_LEAST = 0x35  # BPF_JMP | BPF_JGE | BPF_K
_JUMP_ANY_BIT = 0x45  # BPF_JMP | BPF_JSET | BPF_K
_RETURN = 0x06  # BPF_RET | BPF_K
_INSTRUCTION = struct.Struct("=HBBI")  # struct sock_filter: code, jt, jf, k (host byte order)

# (x86_64 number, aarch64 number or None where the syscall does not exist): unistd_64.h and asm-generic/unistd.h
SYSCALL_NUMBERS: dict[str, tuple[int, int | None]] = {
    "clone": (56, 220),
    "clone3": (435, 435),
    "unshare": (272, 97),
    "setns": (308, 268),
    "personality": (135, 92),
    "bpf": (321, 280),
    "perf_event_open": (298, 241),
    "userfaultfd": (323, 282),
    "io_uring_setup": (425, 425),
    "io_uring_enter": (426, 426),
    "io_uring_register": (427, 427),
    "ptrace": (101, 117),
    "process_vm_readv": (310, 270),
    "process_vm_writev": (311, 271),
    "keyctl": (250, 219),
    "add_key": (248, 217),
    "request_key": (249, 218),
    "kexec_load": (246, 104),
    "kexec_file_load": (320, 294),
    "init_module": (175, 105),
    "finit_module": (313, 273),
    "delete_module": (176, 106),
    "mount": (165, 40),
    "umount2": (166, 39),
    "pivot_root": (155, 41),
    "open_tree": (428, 428),
    "move_mount": (429, 429),
    "fsopen": (430, 430),
    "fsconfig": (431, 431),
    "fsmount": (432, 432),
    "fspick": (433, 433),
    "mount_setattr": (442, 442),
    "open_by_handle_at": (304, 265),
    "iopl": (172, None),
    "ioperm": (173, None),
    "swapon": (167, 224),
    "swapoff": (168, 225),
    "reboot": (169, 142),
    "acct": (163, 89),
    "quotactl": (179, 60),
    "quotactl_fd": (443, 443),
}

# refused with EPERM whatever their arguments; a job computing on tables needs none of them
REFUSED = (
    "setns",  # joining another namespace: only ever a step towards leaving this one
    # large, often-exploited kernel code: eBPF verifier and JIT, perf events, userfaultfd (stalls the kernel mid-copy
    # to win races), io_uring (its own path around most syscalls)
    "bpf",
    "perf_event_open",
    "userfaultfd",
    "io_uring_setup",
    "io_uring_enter",
    "io_uring_register",
    # reading or steering another process's memory (the job's own children included)
    "ptrace",
    "process_vm_readv",
    "process_vm_writev",
    # the kernel keyring is not namespaced: shared with the host's other users
    "keyctl",
    "add_key",
    "request_key",
    # already refused without capabilities (the job has none); refused here too in case a kernel bug hands some out
    "kexec_load",
    "kexec_file_load",
    "init_module",
    "finit_module",
    "delete_module",
    "mount",
    "umount2",
    "pivot_root",
    "open_tree",
    "move_mount",
    "fsopen",
    "fsconfig",
    "fsmount",
    "fspick",
    "mount_setattr",
    "open_by_handle_at",  # opens any inode of a mounted filesystem by number, past the binds
    "iopl",
    "ioperm",
    "swapon",
    "swapoff",
    "reboot",
    "acct",
    "quotactl",
    "quotactl_fd",
)


@dataclass(frozen=True)
class _Op:
    code: int
    k: int
    if_true: str | None = None  # label jumped to when the comparison holds; None: the next instruction
    if_false: str | None = None


def _load(offset: int) -> _Op:
    return _Op(_LOAD_WORD, offset)


def _return(action: int) -> _Op:
    return _Op(_RETURN, action)


def _syscall_rules(arch: str, column: int) -> list[_Op | str]:
    """Jumps on this architecture's syscall numbers; the shared checks and returns follow all architectures."""
    numbers: dict[str, int] = {name: number for name, pair in SYSCALL_NUMBERS.items()
                               if (number := pair[column]) is not None}
    ops: list[_Op | str] = [arch, _load(_NR)]
    if arch == "x86_64":
        ops.append(_Op(_JUMP_AT_LEAST, X32_SYSCALL_BIT, if_true="kill"))
    ops += [
        _Op(_JUMP_EQUAL, numbers["clone"], if_true="check_new_user_namespace"),
        _Op(_JUMP_EQUAL, numbers["unshare"], if_true="check_new_user_namespace"),
        _Op(_JUMP_EQUAL, numbers["personality"], if_true="check_persona"),
        # clone3 passes its flags in memory, out of a filter's reach: ENOSYS makes glibc fall back to clone
        _Op(_JUMP_EQUAL, numbers["clone3"], if_true="no_such_syscall"),
    ]
    ops += [_Op(_JUMP_EQUAL, numbers[name], if_true="refuse") for name in REFUSED if name in numbers]
    ops.append(_return(RET_ALLOW))
    return ops


def _listing() -> list[_Op | str]:
    return [
        _load(_ARCH),
        _Op(_JUMP_EQUAL, AUDIT_ARCH_X86_64, if_true="x86_64"),
        _Op(_JUMP_EQUAL, AUDIT_ARCH_AARCH64, if_true="aarch64", if_false="kill"),  # i386, x32, arm32...: fail closed
        *_syscall_rules("x86_64", 0),
        *_syscall_rules("aarch64", 1),
        "check_new_user_namespace",  # clone and unshare: threads, fork and subprocess work, a new user namespace not
        _load(_ARG0_LOW),
        _Op(_JUMP_ANY_BIT, CLONE_NEWUSER, if_true="refuse", if_false="allow"),
        "check_persona",  # the default persona (PER_LINUX) only: no ADDR_NO_RANDOMIZE, no READ_IMPLIES_EXEC
        _load(_ARG0_LOW),
        _Op(_JUMP_EQUAL, 0, if_true="allow"),
        _Op(_JUMP_EQUAL, PERSONALITY_QUERY, if_true="allow", if_false="refuse"),
        "allow",
        _return(RET_ALLOW),
        "refuse",
        _return(RET_ERRNO | errno.EPERM),
        "no_such_syscall",
        _return(RET_ERRNO | errno.ENOSYS),
        "kill",
        _return(RET_KILL_PROCESS),
    ]


def _assemble(listing: list[_Op | str]) -> bytes:
    """Labels become relative forward jumps (classic BPF has no other kind, each at most 255 instructions)."""
    labels: dict[str, int] = {}
    ops: list[_Op] = []
    for item in listing:
        if isinstance(item, str):
            labels[item] = len(ops)
        else:
            ops.append(item)

    def offset(label: str | None, position: int) -> int:
        if label is None:
            return 0
        distance = labels[label] - position - 1
        if not 0 <= distance <= 255:
            raise ValueError(f"jump to {label} out of reach: {distance}")
        return distance

    return b"".join(
        _INSTRUCTION.pack(op.code, offset(op.if_true, n), offset(op.if_false, n), op.k) for n, op in enumerate(ops)
    )


@functools.cache
def seccomp_program() -> bytes:
    """The packed struct sock_filter array bwrap reads from --seccomp FD."""
    return _assemble(_listing())
