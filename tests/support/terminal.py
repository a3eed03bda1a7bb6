"""Run a command with its output on a pseudo-terminal (``pty``) and read what it shows.

What a person at a terminal sees differs from piped output (progress, colour);
only a real terminal device makes ``isatty()`` true in the child.
"""

from __future__ import annotations

import os
import pty
import select
import subprocess
import time
from collections.abc import Mapping, Sequence
from pathlib import Path
from typing import IO


def run_on_terminal(
    argv: Sequence[str],
    cwd: Path,
    *,
    deadline_s: float,
    stdout: IO[bytes] | None = None,
    env: Mapping[str, str] | None = None,
) -> tuple[int, str]:
    """Run ``argv`` with stderr (and stdout, unless given) on a terminal.

    Returns (exit code, what the terminal received). Raises ``TimeoutError`` when
    the command still runs after ``deadline_s``; it is killed first.
    """
    master, slave = pty.openpty()
    process = subprocess.Popen(
        argv, cwd=cwd, env=None if env is None else dict(env), stdin=subprocess.DEVNULL,
        stdout=stdout if stdout is not None else slave, stderr=slave, close_fds=True,
    )  # fmt: skip
    os.close(slave)
    received = bytearray()
    deadline = time.monotonic() + deadline_s
    try:
        while time.monotonic() < deadline:
            ready, _, _ = select.select([master], [], [], 0.5)
            if ready:
                try:
                    chunk = os.read(master, 65536)
                except OSError:  # EIO: the child closed the terminal's last handle
                    break
                if not chunk:
                    break
                received += chunk
            elif process.poll() is not None:
                break
        else:
            raise TimeoutError(f"{' '.join(argv)} still running after {deadline_s} s")
    finally:
        os.close(master)
        if process.poll() is None:
            process.kill()
        code = process.wait(timeout=10)
    return code, received.decode("utf-8", "replace")
