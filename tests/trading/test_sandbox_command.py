"""``manage.py tastytrade_sandbox`` as a newcomer runs it: a real process, then stopped."""

from __future__ import annotations

import json
import os
import re
import socket
import subprocess
import sys
import urllib.request
from pathlib import Path

import pytest

from tests.support.processes import ROOT, free_port, running

pytestmark = [pytest.mark.slow, pytest.mark.async_guard_strict]


def _env() -> dict[str, str]:
    # The sandbox uses no database: the developer's settings are enough.
    return {**os.environ, "DJANGO_SETTINGS_MODULE": "settings", "PYTHONUNBUFFERED": "1"}


def _command(port: int, *extra: str) -> list[str]:
    return [sys.executable, "manage.py", "tastytrade_sandbox", "--port", str(port), *extra]


def test_the_sandbox_command_serves_the_demo_and_stops_on_sigterm(process_logs: Path) -> None:
    port = free_port()
    with running(
        "sandbox",
        _command(port, "--seconds", "60"),
        env=_env(),
        log_dir=process_logs,
        ready=lambda p: "Ctrl-C stops it." in p.log(),
    ) as proc:
        log = proc.log()
        url = re.search(r"listening on (http://127\.0\.0\.1:\d+)", log)
        assert url and url.group(1) == f"http://127.0.0.1:{port}"
        assert f"export TASTYTRADE_API_URL=http://127.0.0.1:{port}" in log
        assert "export TASTYTRADE_PROVIDER_SECRET=sandbox-provider-secret" in log
        with urllib.request.urlopen(url.group(1) + "/_sandbox/state", timeout=5) as response:
            state = json.load(response)
        assert sorted(state["accounts"]) == ["5WT00001", "5WT00002"]
        proc.wait_for_log(r"GET /_sandbox/state -> 200")
        proc.stop()
        assert proc.popen.returncode == 0
        assert "sandbox stopped" in proc.log()


def test_a_port_in_use_is_a_clear_error() -> None:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        sock.listen()
        port = sock.getsockname()[1]
        result = subprocess.run(
            _command(port), cwd=ROOT, env=_env(), capture_output=True, text=True, timeout=60
        )
    assert result.returncode != 0
    assert f"--port {port}: cannot listen on 127.0.0.1" in result.stderr
