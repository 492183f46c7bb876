"""The kernel's layer of the sandbox: a worker locks itself down before it loads a program.

`KernelLockdown` is built in the worker process once everything it needs is loaded and open (numpy, the world,
the renderer, its channel), and applied after the worker's own limits. It moves the process into a network
namespace of its own where the kernel allows it (there is no network in there; nothing relies on it), sets
PR_SET_NO_NEW_PRIVS and loads a seccomp filter:

- killed on the spot: exec, creating processes (fork, vfork, clone without CLONE_THREAD), sockets and
  connections, ptrace and reading or writing another process's memory, signals to any other process, loading
  kernel modules or BPF programs, namespaces, mounts;
- refused with EPERM: every system call that opens a path or changes the file system (open, creat, mkdir,
  unlink, rename, link, symlink, chmod, chown, truncate, ...): the worker has what it needs open already, and a
  refused open is an honest error (e.g. numpy reading a file it was not given), not a crash.

The rules are a denylist over the system calls a numpy interpreter makes (it needs hundreds, from mmap to
futex); the checker and the restricted builtins are the allowlists. Processes run as root on these machines, so
file permissions protect nothing: this filter must.
"""

from __future__ import annotations

import ctypes
import errno
import functools
import os
import subprocess
import sys
import warnings
from pathlib import Path
from types import ModuleType

from lab.errors import LabError

KILLED = (
    "execve", "execveat", "fork", "vfork",
    "socket", "socketpair", "connect", "bind", "listen", "accept", "accept4",
    "ptrace", "process_vm_readv", "process_vm_writev", "process_madvise", "kcmp", "pidfd_open", "pidfd_getfd",
    "pidfd_send_signal", "rt_sigqueueinfo", "rt_tgsigqueueinfo", "tkill", "migrate_pages", "move_pages",
    "setrlimit", "prlimit64", "init_module", "finit_module", "delete_module", "kexec_load", "kexec_file_load", "bpf",
    "perf_event_open", "userfaultfd", "keyctl", "add_key", "request_key", "setns", "unshare", "mount", "umount2",
    "pivot_root", "chroot", "open_tree", "move_mount", "fsopen", "fsconfig", "fsmount", "fspick", "mount_setattr",
    "swapon", "swapoff", "reboot", "sethostname", "setdomainname", "iopl", "ioperm", "settimeofday", "clock_settime",
    "clock_adjtime", "adjtimex", "setpriority", "sched_setaffinity", "sched_setscheduler", "sched_setparam",
    "sched_setattr", "ioprio_set", "io_uring_setup", "io_uring_enter", "io_uring_register", "name_to_handle_at",
    "open_by_handle_at",
)
"""System calls that kill the worker: a numpy program never makes them, a hostile one does."""

REFUSED = (
    "open", "openat", "openat2", "creat", "mkdir", "mkdirat", "mknod", "mknodat", "unlink", "unlinkat", "rmdir",
    "rename", "renameat", "renameat2", "link", "linkat", "symlink", "symlinkat", "chmod", "fchmod", "fchmodat",
    "chown", "fchown", "lchown", "fchownat", "truncate", "ftruncate", "fallocate", "utime", "utimes", "utimensat",
    "futimesat", "setxattr", "lsetxattr", "fsetxattr", "removexattr", "lremovexattr", "fremovexattr", "chdir",
    "fchdir", "acct", "quotactl", "inotify_init", "inotify_init1", "fanotify_init", "memfd_create",
)
"""System calls that fail with EPERM: opening or changing anything on the file system (memfd_create too: a graphics
driver may try it while rendering, and without exec an anonymous file leads nowhere)."""

SIGNALS = ("kill", "tgkill")
"""Signals by pid: allowed to this process itself (raise, abort), killed for any other pid (0 and -1 included)."""

_ROOT = str(Path(__file__).resolve().parents[2])
CLONE_THREAD = 0x00010000
CLONE_NEWUSER = 0x10000000
CLONE_NEWNET = 0x40000000
PR_SET_NO_NEW_PRIVS = 38


class LockdownUnavailable(RuntimeError):
    """This machine cannot lock a worker down (no libseccomp, or a kernel without seccomp filters)."""


def seccomp_library() -> ModuleType:
    """pyseccomp over the system's libseccomp, or LockdownUnavailable saying why not."""
    try:
        import pyseccomp
    except (ImportError, RuntimeError, OSError) as error:
        raise LockdownUnavailable(f"libseccomp cannot be loaded ({error})") from None
    return pyseccomp


def lockdown_problem() -> str | None:
    """Why this machine cannot lock workers down, or None when it can: a throwaway child process builds and
    applies the real lockdown, then proves a forbidden open is refused."""
    try:
        seccomp_library()
    except LockdownUnavailable as error:
        return str(error)
    probe = ("import os\nfrom lab.sandbox.lockdown import KernelLockdown\nKernelLockdown().apply()\n"
             "try:\n    os.open('/', os.O_RDONLY)\nexcept PermissionError:\n    print('locked')\n")
    try:
        done = subprocess.run([sys.executable, "-I", "-c", f"import sys; sys.path.insert(0, {_ROOT!r})\n{probe}"],
                              capture_output=True, text=True, timeout=60, env={"PATH": os.defpath})
    except (OSError, subprocess.TimeoutExpired) as error:
        return f"the lockdown could not be tried ({error})"
    if done.stdout.strip() != "locked":
        reason = (done.stderr.strip().splitlines() or [f"exit code {done.returncode}"])[-1]
        return f"the kernel did not take the lockdown ({reason[:300]})"
    return None


UNSAFE_VARIABLE = "LAB_UNSAFE_NO_SECCOMP"
"""Set to 1 to run generated programs on a machine that cannot lock them down: unsafe, and said so."""


@functools.cache
def kernel_lockdown_wanted() -> bool:
    """Whether workers lock themselves down in the kernel; a LabError where they cannot and the user has not
    said, with LAB_UNSAFE_NO_SECCOMP=1, to run generated programs without it."""
    problem = lockdown_problem()
    if problem is None:
        return True
    if os.environ.get(UNSAFE_VARIABLE) == "1":
        warnings.warn(f"generated programs run WITHOUT the kernel's lockdown ({problem}): {UNSAFE_VARIABLE}=1",
                      stacklevel=2)
        return False
    raise LabError(f"this machine cannot lock generated programs down: {problem}",
                   hint=f"install libseccomp (Debian: apt install libseccomp2), or set {UNSAFE_VARIABLE}=1 to run "
                        "them without the kernel's layer, knowing a program that escapes the checker is not stopped")


def _own_network_namespace(libc: ctypes.CDLL) -> bool:
    """Leave the machine's network: a new, empty network namespace (as root, or inside a new user namespace)."""
    for flags in (CLONE_NEWNET, CLONE_NEWUSER | CLONE_NEWNET):
        if libc.unshare(flags) == 0:
            return True
    return False


class KernelLockdown:
    """A seccomp filter built (and a network namespace entered) while the worker may still open files; `apply()`
    loads it once the worker has closed every other door."""

    def __init__(self) -> None:
        seccomp = seccomp_library()
        self._libc = ctypes.CDLL(None, use_errno=True)
        self.network_namespace = _own_network_namespace(self._libc)
        self._filter = seccomp.SyscallFilter(seccomp.ALLOW)
        own = os.getpid()
        for name in KILLED:
            _add(seccomp, self._filter, seccomp.KILL_PROCESS, name)
        for name in REFUSED:
            _add(seccomp, self._filter, seccomp.ERRNO(errno.EPERM), name)
        thread = seccomp.Arg(0, seccomp.MASKED_EQ, CLONE_THREAD, 0)
        _add(seccomp, self._filter, seccomp.KILL_PROCESS, "clone", thread)  # a process, not a thread
        _add(seccomp, self._filter, seccomp.ERRNO(errno.ENOSYS), "clone3")  # flags out of reach: glibc falls back
        for name in SIGNALS:  # one comparison per rule: above this pid, or below it
            _add(seccomp, self._filter, seccomp.KILL_PROCESS, name, seccomp.Arg(0, seccomp.GT, own))
            _add(seccomp, self._filter, seccomp.KILL_PROCESS, name, seccomp.Arg(0, seccomp.LT, own))
        self._filter.set_attr(seccomp.Attr.CTL_TSYNC, 1)  # every thread of the process, not only this one

    def apply(self) -> None:
        """No new privileges, then the filter, for good."""
        if self._libc.prctl(PR_SET_NO_NEW_PRIVS, 1, 0, 0, 0) != 0:
            raise LockdownUnavailable(f"prctl(PR_SET_NO_NEW_PRIVS) failed: {os.strerror(ctypes.get_errno())}")
        try:
            self._filter.load()
        except OSError as error:
            raise LockdownUnavailable(f"the kernel refused the seccomp filter ({error})") from None


def _add(seccomp: ModuleType, rules: object, action: int, name: str, *args: object) -> None:
    """Add one rule; a system call this architecture does not have is skipped (there is nothing to forbid)."""
    if seccomp.resolve_syscall(seccomp.system_arch(), name) < 0:
        return
    rules.add_rule(action, name, *args)  # type: ignore[attr-defined]
