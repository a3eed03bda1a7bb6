"""Run the fake tastytrade API on 127.0.0.1 with the demo world loaded, until Ctrl-C."""

from __future__ import annotations

import signal
import threading
from typing import Any

from django.core.management.base import BaseCommand, CommandError, CommandParser

from trading import demo
from trading.sandbox.server import SandboxServer


class Command(BaseCommand):
    help = "Serve a local fake of the tastytrade REST API (demo accounts, orders, quotes)."

    def add_arguments(self, parser: CommandParser) -> None:
        parser.add_argument("--port", type=int, default=8765, help="Port on 127.0.0.1 (8765).")
        parser.add_argument("--quiet", action="store_true", help="Do not print a line per request.")
        parser.add_argument(
            "--seconds",
            type=float,
            default=None,
            help="Stop after this many seconds (default: run until Ctrl-C or SIGTERM).",
        )

    def handle(self, *args: Any, **options: Any) -> None:
        port: int = options["port"]
        if not 0 <= port <= 65535:
            raise CommandError(f"--port {port}: must be between 0 and 65535")

        def log(method: str, path: str, status: int) -> None:
            if not options["quiet"]:
                self.stdout.write(f"{method} {path} -> {status}")

        try:
            server = SandboxServer(demo.demo_broker(), port=port, on_request=log)
        except OSError as exc:
            raise CommandError(f"--port {port}: cannot listen on 127.0.0.1: {exc}") from exc
        stop = threading.Event()
        for signum in (signal.SIGINT, signal.SIGTERM):
            signal.signal(signum, lambda *_: stop.set())
        with server:
            self.stdout.write(
                f"tastytrade sandbox listening on {server.url}\n\n"
                "Point the reference project at it (in another shell):\n"
                f"  export TASTYTRADE_API_URL={server.url}\n"
                f"  export TASTYTRADE_PROVIDER_SECRET={demo.PROVIDER_SECRET}\n"
                "  python manage.py seed_demo\n"
                "  python manage.py fix_call_spread_profit_targets --dry-run\n"
                "  python manage.py fix_call_spread_profit_targets\n\n"
                f"Order book: curl {server.url}/_sandbox/state\n"
                f"Inject a fault: curl -X POST {server.url}/_sandbox/faults "
                '-d \'{"method": "POST", "path": "/orders$", "kind": "drop"}\'\n'
                "Ctrl-C stops it."
            )
            self.stdout.flush()
            stop.wait(options["seconds"])
        self.stdout.write("sandbox stopped")
