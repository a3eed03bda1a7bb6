"""Real worker and server processes for the tests, bounded in time and stopped by PID.

Every process is started in its own session (process group) with its output in
a log file, waited for with a deadline, and on exit sent SIGTERM, then SIGKILL,
by its process-group id, so nothing outlives the test that started it.
"""

from __future__ import annotations

import contextlib
import os
import re
import signal
import socket
import subprocess
import sys
import time
import urllib.request
import uuid
from collections.abc import Callable, Iterator
from dataclasses import dataclass, field
from pathlib import Path

from django.db import connections

ROOT = Path(__file__).resolve().parents[2]


def free_port() -> int:
    with socket.socket(socket.AF_INET, socket.SOCK_STREAM) as sock:
        sock.bind(("127.0.0.1", 0))
        return int(sock.getsockname()[1])


def subprocess_env(**extra: str) -> dict[str, str]:
    """The environment for a child process that must use the current test database.

    Call it inside a test that has database access (``transactional_db``):
    the child connects to the test database pytest-django created, not to the
    developer's own database.
    """
    env = dict(os.environ)
    env["DJANGO_SETTINGS_MODULE"] = "settings"
    env["PYTHONPATH"] = str(ROOT) + os.pathsep + env.get("PYTHONPATH", "")
    env["PYTHONUNBUFFERED"] = "1"
    db = connections["default"].settings_dict
    if db["ENGINE"] == "django.db.backends.sqlite3":
        env.pop("DATABASE_URL", None)
        env["SQLITE_PATH"] = str(db["NAME"])
    else:
        user = db.get("USER") or "postgres"
        host = db.get("HOST") or "127.0.0.1"
        port = db.get("PORT") or 5432
        env["DATABASE_URL"] = f"postgres://{user}@{host}:{port}/{db['NAME']}"
    env.update(extra)
    return env


@dataclass
class Process:
    name: str
    popen: subprocess.Popen[bytes]
    log_path: Path
    info: dict[str, str] = field(default_factory=dict)

    @property
    def pid(self) -> int:
        return self.popen.pid

    def log(self) -> str:
        return self.log_path.read_text(encoding="utf-8", errors="replace")

    def wait_for_log(self, pattern: str, timeout: float = 30.0, count: int = 1) -> str:
        """Wait until ``pattern`` (a regex) occurs ``count`` times in the log; return the log."""
        regex = re.compile(pattern)
        deadline = time.monotonic() + timeout
        while True:
            text = self.log()
            if len(regex.findall(text)) >= count:
                return text
            if self.popen.poll() is not None:
                raise AssertionError(
                    f"{self.name} exited with {self.popen.returncode} before {pattern!r}:\n{text}"
                )
            if time.monotonic() > deadline:
                raise AssertionError(f"{self.name}: no {pattern!r} within {timeout}s:\n{text}")
            time.sleep(0.05)

    def stop(self, timeout: float = 15.0) -> None:
        if self.popen.poll() is None:
            with contextlib.suppress(ProcessLookupError):
                os.killpg(self.popen.pid, signal.SIGTERM)
            try:
                self.popen.wait(timeout=timeout)
            except subprocess.TimeoutExpired:
                with contextlib.suppress(ProcessLookupError):
                    os.killpg(self.popen.pid, signal.SIGKILL)
                self.popen.wait(timeout=5)
        # Children the process forked (prefork pool, gunicorn workers) share its group.
        with contextlib.suppress(ProcessLookupError, PermissionError):
            os.killpg(self.popen.pid, signal.SIGKILL)


@contextlib.contextmanager
def running(
    name: str,
    cmd: list[str],
    *,
    env: dict[str, str],
    log_dir: Path,
    ready: Callable[[Process], bool],
    timeout: float = 40.0,
) -> Iterator[Process]:
    """Start ``cmd``, wait until ``ready(process)`` is true, yield it, then stop it by PID."""
    log_dir.mkdir(parents=True, exist_ok=True)
    log_path = log_dir / f"{name}-{uuid.uuid4().hex[:8]}.log"
    with log_path.open("wb") as log_file:
        popen = subprocess.Popen(
            cmd,
            cwd=ROOT,
            env=env,
            stdout=log_file,
            stderr=subprocess.STDOUT,
            stdin=subprocess.DEVNULL,
            start_new_session=True,
        )
    proc = Process(name, popen, log_path)
    try:
        deadline = time.monotonic() + timeout
        while not ready(proc):
            if popen.poll() is not None:
                raise AssertionError(f"{name} exited with {popen.returncode}:\n{proc.log()}")
            if time.monotonic() > deadline:
                raise AssertionError(f"{name} not ready within {timeout}s:\n{proc.log()}")
            time.sleep(0.1)
        yield proc
    finally:
        proc.stop()


@contextlib.contextmanager
def celery_worker(
    log_dir: Path,
    *,
    pool: str = "solo",
    concurrency: int = 1,
    env: dict[str, str] | None = None,
    broker_url: str | None = None,
    extra_args: tuple[str, ...] = (),
    queue: str | None = None,
) -> Iterator[Process]:
    """A real ``celery worker`` on the reference project's app, on a queue of its own.

    The queue name is in ``process.info["queue"]``: send tasks there
    (``task.apply_async(queue=...)``) so that no other worker, and no message
    left over from an earlier run, can interfere. Pass ``queue`` to consume a
    queue filled before the worker starts (a throughput benchmark does).
    """
    queue = queue or f"test-{uuid.uuid4().hex[:10]}"
    child_env = env if env is not None else subprocess_env()
    if broker_url:
        child_env = {**child_env, "CELERY_BROKER_URL": broker_url}
    cmd = [
        sys.executable, "-m", "celery", "-A", "settings.celery", "worker",
        "--pool", pool, "--concurrency", str(concurrency), "--loglevel", "INFO",
        "--queues", queue, "--hostname", f"{queue}@127.0.0.1",
        "--without-heartbeat", "--without-gossip", "--without-mingle",
        *extra_args,
    ]  # fmt: skip
    with running(
        f"celery-{pool}",
        cmd,
        env=child_env,
        log_dir=log_dir,
        ready=lambda p: " ready." in p.log(),
    ) as proc:
        proc.info["queue"] = queue
        yield proc


def _http_ok(url: str) -> bool:
    try:
        with urllib.request.urlopen(url, timeout=1.0) as response:
            return bool(response.status == 200)
    except OSError:
        return False


@contextlib.contextmanager
def http_server(
    kind: str,
    log_dir: Path,
    *,
    env: dict[str, str] | None = None,
    threads: int = 4,
) -> Iterator[Process]:
    """The reference project under a real server: ``gunicorn`` (WSGI) or ``uvicorn`` (ASGI).

    The base URL is in ``process.info["url"]``; readiness is a 200 from ``/health/``.
    """
    port = free_port()
    if kind == "gunicorn":
        cmd = [
            sys.executable, "-m", "gunicorn", "settings.wsgi:application",
            "--bind", f"127.0.0.1:{port}", "--workers", "1", "--threads", str(threads),
            "--worker-class", "gthread", "--log-level", "info", "--timeout", "30",
        ]  # fmt: skip
    elif kind == "uvicorn":
        cmd = [
            sys.executable, "-m", "uvicorn", "settings.asgi:application",
            "--host", "127.0.0.1", "--port", str(port), "--log-level", "info",
        ]  # fmt: skip
    else:
        raise ValueError(f"unknown server kind {kind!r}: use 'gunicorn' or 'uvicorn'")
    url = f"http://127.0.0.1:{port}"
    with running(
        kind,
        cmd,
        env=env if env is not None else subprocess_env(),
        log_dir=log_dir,
        ready=lambda p: _http_ok(url + "/health/"),
    ) as proc:
        proc.info["url"] = url
        yield proc
