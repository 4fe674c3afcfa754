"""The grading kernel in a sandbox: student code runs without network, with CPU-time and
memory limits, and writes only inside its own working folders.

nbgrader executes a submission through a Jupyter kernel; ``make grade`` names the kernel
``mnistlab-sandbox``, whose kernelspec (written per submission by ``kernelspec``) starts
``python -m mnistlab.pipeline.sandbox``.  That launcher sets the rlimits and then becomes
the real IPython kernel, wrapped in one of two isolations:

- ``bwrap``: Debian's bubblewrap.  The whole filesystem is mounted read-only, the
  submission's folders read-write, ``/tmp`` is private, and the kernel has its own
  (empty) network namespace.  The kernel then cannot reach the grader over TCP, so the
  grader talks to it over Unix sockets (``KernelManager.transport = "ipc"``) in a folder
  bound into the sandbox.
- ``user``: where bubblewrap cannot create namespaces, the kernel runs as the unprivileged
  user ``nobody`` (when the grader is root; otherwise as the grader's own, unprivileged,
  user), with the same rlimits.  Filesystem permissions, not a mount, keep it out of other
  folders, and the network stays reachable.

``none`` runs the kernel as is, with the rlimits only (an instructor's own notebook).
"""

from __future__ import annotations

import argparse
import json
import os
import pwd
import resource
import shutil
import stat
import subprocess
import sys
from dataclasses import dataclass
from functools import lru_cache
from pathlib import Path

KERNEL_NAME = "mnistlab-sandbox"
ISOLATIONS = ("auto", "bwrap", "user", "none")
# Every namespace but the process one: ipykernel exits when its parent looks like pid 1,
# as bubblewrap's init does in a new pid namespace.
UNSHARE = ["--unshare-user-try", "--unshare-ipc", "--unshare-net", "--unshare-uts",
           "--unshare-cgroup-try"]
BWRAP_PROBE = ["--ro-bind", "/", "/", "--dev", "/dev", "--proc", "/proc", *UNSHARE,
               "--die-with-parent", "true"]


@dataclass(frozen=True)
class Limits:
    """Per-kernel rlimits: CPU seconds of the whole notebook and address space in GiB
    (TensorFlow and a quick-profile training fit in 4 GiB; measured 0.6 GiB resident)."""

    cpu_s: int = 3600
    memory_gib: float = 4.0


@lru_cache(maxsize=1)
def bwrap_problem() -> str | None:
    """None when bubblewrap can make its namespaces here, else why not (one line)."""
    binary = shutil.which("bwrap")
    if binary is None:
        return "bubblewrap is not installed (apt-get install bubblewrap)"
    probe = subprocess.run([binary, *BWRAP_PROBE], capture_output=True, text=True, timeout=30)
    if probe.returncode:
        return f"bwrap cannot create namespaces here: {probe.stderr.strip() or probe.returncode}"
    return None


def user_problem() -> str | None:
    """None when the unprivileged user could run this Python and mnistlab, else why not:
    as root, every folder above them must be open to others (``o+x``)."""
    if os.getuid() != 0:
        return None
    for target in (Path(sys.executable).resolve(), Path(__file__).resolve()):
        for folder in target.parents:
            if not folder.stat().st_mode & stat.S_IXOTH:
                return (f"the unprivileged user 'nobody' cannot reach {target}: {folder} is closed "
                        "to other users (install Python and the kit outside root's home)")
    return None


def choose(isolation: str) -> str:
    """The isolation in force for ``isolation`` (``auto``: bwrap where it works, else user);
    asking for bwrap where it cannot work is refused with the reason."""
    from mnistlab.core.errors import LabError

    if isolation not in ISOLATIONS:
        raise LabError(f"isolation {isolation!r}: allowed values are {', '.join(ISOLATIONS)}")
    problem = bwrap_problem() if isolation in ("auto", "bwrap") else None
    if isolation == "bwrap" and problem:
        raise LabError(f"--isolation bwrap: {problem}; use --isolation user")
    if isolation == "auto":
        isolation = "user" if problem else "bwrap"
    if isolation == "user" and user_problem():
        raise LabError(f"--isolation user: {user_problem()}"
                       + (f"; bubblewrap: {problem}" if problem else "; use --isolation bwrap"))
    return isolation


def kernelspec(folder: Path, isolation: str, writable: list[Path], limits: Limits,
               runtime: Path, sockets: Path) -> dict:
    """Write ``<folder>/kernels/mnistlab-sandbox/kernel.json`` (put ``folder`` on
    JUPYTER_PATH) and return the settings nbgrader's kernel manager needs with it: the
    connection file in ``runtime`` and the Unix sockets in ``sockets`` (a short path), both
    folders of ``writable`` (the default connection file is in /tmp, which the sandbox
    replaces)."""
    argv = [sys.executable, "-m", "mnistlab.pipeline.sandbox", "--isolation", isolation,
            "--cpu", str(limits.cpu_s), "--memory", str(limits.memory_gib)]
    for path in writable:
        argv += ["--write", str(path)]
    argv += ["--", sys.executable, "-m", "ipykernel_launcher", "-f", "{connection_file}"]
    # Interrupts (a cell's timeout) as a message the kernel turns into SIGINT itself: a
    # signal to the launcher's process group would not reach a kernel in bwrap's new session.
    spec = {"argv": argv, "display_name": "Python 3 (mnistlab sandbox)", "language": "python",
            "interrupt_mode": "message"}
    target = folder / "kernels" / KERNEL_NAME / "kernel.json"
    target.parent.mkdir(parents=True, exist_ok=True)
    target.write_text(json.dumps(spec, indent=1))
    settings = {"Execute": {"kernel_name": KERNEL_NAME}}
    settings["KernelManager"] = {"connection_file": str(runtime / "kernel.json")}
    if isolation == "bwrap":  # no TCP between namespaces: Unix sockets in a bound folder
        settings["KernelManager"].update(transport="ipc", ip=str(sockets / "kernel"))
    return settings


def bwrap_command(writable: list[Path], command: list[str]) -> list[str]:
    """bubblewrap around ``command``: everything read-only (``/tmp`` too: a write anywhere
    else fails loudly, and TMPDIR points into the first writable folder), no network, a new
    session (no terminal injection), the ``writable`` folders read-write."""
    args = ["bwrap", "--ro-bind", "/", "/", "--dev", "/dev", "--proc", "/proc",
            *UNSHARE, "--die-with-parent", "--new-session"]
    for path in writable:
        args += ["--bind", str(path), str(path)]
    return args + ["--chdir", os.getcwd(), *command]


def _set_limits(limits: Limits) -> None:
    memory = int(limits.memory_gib * 2**30)
    resource.setrlimit(resource.RLIMIT_CPU, (limits.cpu_s, limits.cpu_s))
    resource.setrlimit(resource.RLIMIT_AS, (memory, memory))
    resource.setrlimit(resource.RLIMIT_CORE, (0, 0))


def _become_nobody(writable: list[Path]) -> None:
    """As root: hand the writable folders to ``nobody`` and drop to it for good."""
    if os.getuid() != 0:
        return  # already an unprivileged user
    nobody = pwd.getpwnam("nobody")
    for folder in writable:
        for path in [folder, *folder.rglob("*")]:
            os.chown(path, nobody.pw_uid, nobody.pw_gid, follow_symlinks=False)
    os.setgroups([])
    os.setgid(nobody.pw_gid)
    os.setuid(nobody.pw_uid)
    os.environ["HOME"] = str(writable[0]) if writable else "/nonexistent"


def main(argv: list[str] | None = None) -> None:
    """Kernel launcher (the kernelspec's argv): limits, isolation, then exec the kernel."""
    parser = argparse.ArgumentParser(prog="python -m mnistlab.pipeline.sandbox", description=__doc__)
    parser.add_argument("--isolation", choices=ISOLATIONS[1:], required=True)
    parser.add_argument("--cpu", type=int, required=True, help="CPU seconds for the kernel")
    parser.add_argument("--memory", type=float, required=True, help="address space, GiB")
    parser.add_argument("--write", type=Path, action="append", default=[],
                        help="a folder the kernel may write (repeatable)")
    parser.add_argument("command", nargs=argparse.REMAINDER, help="-- the kernel's command")
    args = parser.parse_args(argv)
    command = args.command[1:] if args.command[:1] == ["--"] else args.command
    if not command:
        parser.error("give the kernel's command after --")
    for folder in args.write:  # nbgrader may have removed and not yet remade one
        folder.mkdir(parents=True, exist_ok=True)
    if args.write:
        os.environ["TMPDIR"] = str(args.write[0] / "tmp")
        (args.write[0] / "tmp").mkdir(exist_ok=True)
    _set_limits(Limits(args.cpu, args.memory))
    if args.isolation == "bwrap":
        command = bwrap_command(args.write, command)
    elif args.isolation == "user":
        _become_nobody(args.write)
    os.execvp(command[0], command)


if __name__ == "__main__":
    main()
