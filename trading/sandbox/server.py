"""A fake tastytrade REST API on a real HTTP server (127.0.0.1), for the unmodified SDK.

It speaks the JSON the SDK parses (dasherized keys, ``{"data": ...}`` envelopes,
``{"error": {"code", "message"}}`` errors) on the endpoints the reference
project calls: OAuth token refresh, accounts, positions, live orders, place
(live and dry-run), delete, market data. State lives in :class:`SandboxBroker`;
tests inspect it directly (``orders()``, ``snapshot()``) and inject faults
(:class:`Fault`): HTTP 500 or 401, a response that comes too late, a dropped
connection, each optionally *after* the broker has acted, which is how orders
get duplicated in real life.

Control endpoints for people (not used by the SDK): ``GET /_sandbox/state``,
``POST /_sandbox/faults`` (a Fault as JSON), ``DELETE /_sandbox/faults``.
"""

from __future__ import annotations

import contextlib
import copy
import json
import re
import secrets
import sys
import threading
from collections.abc import Iterator
from dataclasses import asdict, dataclass, field
from datetime import UTC, datetime
from decimal import Decimal, InvalidOperation
from http import HTTPStatus
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from typing import Any
from urllib.parse import parse_qs, urlsplit

ACTIVE_STATUSES = frozenset({"Received", "Routed", "In Flight", "Live", "Contingent"})
FAULT_KINDS = ("http500", "http401", "timeout", "drop", "slow")


def _now() -> str:
    return datetime.now(UTC).strftime("%Y-%m-%dT%H:%M:%S.%f")[:-3] + "Z"


def underlying_of(symbol: str) -> str:
    """``"SPY   270115C00600000"`` (OCC option symbol) -> ``"SPY"``; an equity is itself."""
    return symbol[:6].strip() if len(symbol) >= 15 else symbol


class SandboxError(Exception):
    """A request the fake broker rejects: becomes ``{"error": {...}}`` with ``status``."""

    def __init__(self, status: int, code: str, message: str) -> None:
        super().__init__(message)
        self.status = status
        self.code = code


@dataclass
class Fault:
    """One injected failure for requests whose method and path match.

    ``kind``: ``http500``/``http401`` (the broker does nothing and answers with
    that status), ``timeout`` (an error answer comes ``delay`` seconds late),
    ``drop`` (the connection is closed without an answer), ``slow`` (the normal
    answer comes ``delay`` seconds late: for overlapping concurrent clients). With
    ``after_accept`` (the default) a ``timeout`` or ``drop`` on a write happens
    *after* the broker booked it. ``times`` is how many requests it hits.
    """

    method: str
    path: str
    kind: str
    times: int = 1
    delay: float = 3.0
    after_accept: bool = True

    def __post_init__(self) -> None:
        if self.kind not in FAULT_KINDS:
            raise ValueError(f"fault kind {self.kind!r}: use one of {', '.join(FAULT_KINDS)}")
        re.compile(self.path)

    def matches(self, method: str, path: str) -> bool:
        return self.times > 0 and self.method in {method, "*"} and bool(re.search(self.path, path))


@dataclass
class _Account:
    number: str
    nickname: str
    positions: list[dict[str, Any]] = field(default_factory=list)
    orders: dict[int, dict[str, Any]] = field(default_factory=dict)


class SandboxBroker:
    """The fake broker's state, safe to use from the server's threads and the test's."""

    def __init__(self, provider_secret: str, *, first_order_id: int = 3001) -> None:
        self.provider_secret = provider_secret
        self._lock = threading.RLock()
        self._logins: dict[str, list[str]] = {}
        self._tokens: dict[str, str] = {}
        self._accounts: dict[str, _Account] = {}
        self._quotes: dict[str, dict[str, Any]] = {}
        self._faults: list[Fault] = []
        self._next_order_id = first_order_id
        #: (method, path, status) of every request, for tests; never headers or bodies.
        self.requests: list[tuple[str, str, int]] = []
        self.stopping = threading.Event()

    # --- setting up -------------------------------------------------------

    def add_login(self, refresh_token: str, account_numbers: list[str]) -> None:
        with self._lock:
            self._logins[refresh_token] = list(account_numbers)
            for number in account_numbers:
                self._accounts.setdefault(number, _Account(number, f"Demo {number}"))

    def add_position(
        self, account_number: str, symbol: str, quantity: int, *, short: bool, price: str
    ) -> None:
        with self._lock:
            self._accounts[account_number].positions.append(
                {
                    "account-number": account_number,
                    "symbol": symbol,
                    "instrument-type": "Equity Option" if len(symbol) >= 15 else "Equity",
                    "underlying-symbol": underlying_of(symbol),
                    "quantity": str(quantity),
                    "quantity-direction": "Short" if short else "Long",
                    "close-price": price,
                    "average-open-price": price,
                    "multiplier": "100" if len(symbol) >= 15 else "1",
                    "cost-effect": "Credit" if short else "Debit",
                    "is-suppressed": False,
                    "is-frozen": False,
                    "realized-day-gain": "0",
                    "realized-today": "0",
                    "created-at": "2026-11-02T14:30:00.000Z",
                    "updated-at": "2026-11-02T14:30:00.000Z",
                }
            )

    def remove_positions(self, account_number: str, symbols: list[str]) -> None:
        with self._lock:
            account = self._accounts[account_number]
            account.positions = [p for p in account.positions if p["symbol"] not in symbols]

    def add_order(
        self,
        account_number: str,
        legs: list[dict[str, Any]],
        price: str,
        *,
        status: str = "Live",
        order_id: int | None = None,
        external_identifier: str | None = None,
    ) -> int:
        """Book an order as if it had been placed earlier (``price`` signed: < 0 is a debit)."""
        body = {
            "order-type": "Limit",
            "time-in-force": "GTC",
            "price": str(abs(Decimal(price))),
            "price-effect": "Debit" if Decimal(price) < 0 else "Credit",
            "legs": legs,
        }
        if external_identifier:
            body["external-identifier"] = external_identifier
        with self._lock:
            order = self._book(account_number, body, order_id=order_id)
            if status != "Live":
                self._set_status(order, status)
            return int(order["id"])

    def fill_order(self, account_number: str, order_id: int) -> None:
        with self._lock:
            self._set_status(self._accounts[account_number].orders[order_id], "Filled")

    def set_quote(self, symbol: str, bid: str, ask: str) -> None:
        with self._lock:
            mark = (Decimal(bid) + Decimal(ask)) / 2
            self._quotes[symbol] = {
                "symbol": symbol,
                "instrument-type": "Equity Option" if len(symbol) >= 15 else "Equity",
                "updated-at": "2026-11-20T21:00:00.000Z",
                "bid-size": "10",
                "ask-size": "10",
                "close-price-type": "Regular",
                "summary-date": "2026-11-20",
                "prev-close-date": "2026-11-19",
                "prev-close-price-type": "Regular",
                "halt-start-time": -1,
                "halt-end-time": -1,
                "bid": bid,
                "ask": ask,
                "mark": str(mark.quantize(Decimal("0.001"))),
                "last": str(mark.quantize(Decimal("0.01"))),
            }

    def inject(self, fault: Fault) -> Fault:
        with self._lock:
            self._faults.append(fault)
        return fault

    def clear_faults(self) -> None:
        with self._lock:
            self._faults.clear()

    def expire_tokens(self) -> None:
        """Invalidate every access token handed out (the broker's side of an expiry)."""
        with self._lock:
            self._tokens.clear()

    # --- inspecting -------------------------------------------------------

    def orders(self, account_number: str, *, status: str | None = None) -> list[dict[str, Any]]:
        with self._lock:
            orders = self._accounts[account_number].orders.values()
            return [copy.deepcopy(o) for o in orders if status is None or o["status"] == status]

    def positions(self, account_number: str) -> list[dict[str, Any]]:
        with self._lock:
            return copy.deepcopy(self._accounts[account_number].positions)

    def order_book(self) -> dict[str, Any]:
        with self._lock:
            return {
                "next-order-id": self._next_order_id,
                "accounts": {
                    number: {
                        "positions": account.positions,
                        "orders": {str(k): v for k, v in sorted(account.orders.items())},
                    }
                    for number, account in sorted(self._accounts.items())
                },
            }

    def snapshot(self) -> str:
        """The order book and positions as canonical JSON: equal strings, equal books."""
        with self._lock:
            return json.dumps(self.order_book(), sort_keys=True, separators=(",", ":"))

    def count(self, method: str, path_regex: str) -> int:
        return sum(1 for m, p, _ in list(self.requests) if m == method and re.search(path_regex, p))

    # --- serving (called by the HTTP handler) ------------------------------

    def take_fault(self, method: str, path: str) -> Fault | None:
        with self._lock:
            for fault in self._faults:
                if fault.matches(method, path):
                    fault.times -= 1
                    return fault
        return None

    def handle(
        self, method: str, path: str, query: dict[str, list[str]], body: Any, token: str | None
    ) -> tuple[int, Any]:
        with self._lock:
            if method == "POST" and path == "/oauth/token":
                return 200, self._oauth(body)
            if path.startswith("/_sandbox/"):
                return self._control(method, path, body)
            login = self._tokens.get(token or "")
            if login is None:
                raise SandboxError(401, "invalid_token", "access token missing, unknown or expired")
            allowed = self._logins[login]
            if method == "POST" and path == "/sessions/validate":
                return 201, {"data": {"valid": True}}
            if method == "GET" and path == "/customers/me/accounts":
                items = [
                    {"account": self._account_json(n), "authority-level": "owner"} for n in allowed
                ]
                return 200, {"data": {"items": items}}
            if method == "GET" and path.startswith("/market-data/by-type"):
                return 200, {"data": {"items": self._quotes_for(query)}}
            match = re.fullmatch(r"/(?:customers/me/)?accounts/([^/]+)(/.*)?", path)
            if not match:
                raise SandboxError(404, "not_found", f"no route for {method} {path}")
            number, rest = match.group(1), match.group(2) or ""
            if number not in allowed:
                raise SandboxError(403, "forbidden", f"account {number} is not yours")
            return self._account_route(method, number, rest, body)

    def _oauth(self, body: Any) -> dict[str, Any]:
        if not isinstance(body, dict) or body.get("grant_type") != "refresh_token":
            raise SandboxError(400, "invalid_request", "grant_type must be refresh_token")
        if body.get("client_secret") != self.provider_secret:
            raise SandboxError(401, "invalid_client", "provider secret rejected")
        refresh = body.get("refresh_token")
        if refresh not in self._logins:
            raise SandboxError(401, "invalid_grant", "refresh token rejected")
        access = secrets.token_hex(16)
        self._tokens[access] = refresh
        return {"access_token": access, "expires_in": 900, "token_type": "Bearer"}

    def _control(self, method: str, path: str, body: Any) -> tuple[int, Any]:
        if method == "GET" and path == "/_sandbox/state":
            state = self.order_book()
            state["faults"] = [asdict(f) for f in self._faults]
            return 200, state
        if method == "POST" and path == "/_sandbox/faults":
            try:
                fault = self.inject(Fault(**body))
            except (TypeError, ValueError, re.error) as exc:
                raise SandboxError(400, "bad_fault", f"bad fault {body!r}: {exc}") from exc
            return 201, asdict(fault)
        if method == "DELETE" and path == "/_sandbox/faults":
            self.clear_faults()
            return 200, {"faults": []}
        raise SandboxError(404, "not_found", f"no control route {method} {path}")

    def _account_json(self, number: str) -> dict[str, Any]:
        return {
            "account-number": number,
            "opened-at": "2024-01-02T15:00:00.000Z",
            "nickname": self._accounts[number].nickname,
            "account-type-name": "Individual",
            "is-closed": False,
            "day-trader-status": False,
            "is-firm-error": False,
            "is-firm-proprietary": False,
            "is-futures-approved": False,
            "margin-or-cash": "Margin",
            "is-foreign": False,
            "created-at": "2024-01-02T15:00:00.000Z",
        }

    def _quotes_for(self, query: dict[str, list[str]]) -> list[dict[str, Any]]:
        symbols = [s for key in ("equity", "equity-option", "index") for s in query.get(key, [])]
        unknown = [s for s in symbols if s not in self._quotes]
        if unknown:
            raise SandboxError(404, "quote_not_found", f"no quote for {', '.join(unknown)}")
        return [self._quotes[s] for s in symbols]

    def _account_route(self, method: str, number: str, rest: str, body: Any) -> tuple[int, Any]:
        account = self._accounts[number]
        if method == "GET" and rest == "":
            return 200, {"data": self._account_json(number)}
        if method == "GET" and rest == "/positions":
            return 200, {"data": {"items": account.positions}}
        if method == "GET" and rest == "/orders/live":
            return 200, {"data": {"items": list(account.orders.values())}}
        if method == "POST" and rest in {"/orders", "/orders/dry-run"}:
            dry_run = rest.endswith("dry-run")
            order = self._validated_order(number, body) if dry_run else self._book(number, body)
            return 201, {"data": self._order_response(order)}
        match = re.fullmatch(r"/orders/(\d+)", rest)
        if match and int(match.group(1)) in account.orders:
            order = account.orders[int(match.group(1))]
            if method == "GET":
                return 200, {"data": order}
            if method == "DELETE":
                if order["status"] not in ACTIVE_STATUSES:
                    raise SandboxError(
                        422, "order_not_cancellable", f"order {order['id']} is {order['status']}"
                    )
                self._set_status(order, "Cancelled")
                return 200, {"data": order}
        if match:
            raise SandboxError(404, "order_not_found", f"no order {match.group(1)} in {number}")
        raise SandboxError(404, "not_found", f"no route for {method} /accounts/{number}{rest}")

    def _validated_order(self, number: str, body: Any) -> dict[str, Any]:
        if not isinstance(body, dict):
            raise SandboxError(400, "invalid_order", "order body must be a JSON object")
        legs = body.get("legs")
        if not legs or not isinstance(legs, list):
            raise SandboxError(400, "invalid_order", "an order needs at least one leg")
        if body.get("order-type") == "Limit":
            try:
                price = Decimal(str(body["price"]))
            except (KeyError, InvalidOperation) as exc:
                raise SandboxError(400, "invalid_order", "a limit order needs a price") from exc
            if price <= 0:
                raise SandboxError(400, "invalid_order", "price must be > 0 with a price-effect")
        now = _now()
        quantity = Decimal(str(legs[0].get("quantity") or 1))
        order: dict[str, Any] = {
            "account-number": number,
            "time-in-force": body.get("time-in-force", "Day"),
            "order-type": body.get("order-type", "Limit"),
            "size": str(quantity),
            "underlying-symbol": underlying_of(str(legs[0].get("symbol", ""))),
            "underlying-instrument-type": "Equity",
            "status": "Received",
            "cancellable": True,
            "editable": True,
            "edited": False,
            "updated-at": now,
            "received-at": now,
            "legs": [
                {
                    "instrument-type": leg.get("instrument-type", "Equity Option"),
                    "symbol": leg["symbol"],
                    "action": leg["action"],
                    "quantity": str(leg.get("quantity", 1)),
                    "remaining-quantity": str(leg.get("quantity", 1)),
                    "fills": [],
                }
                for leg in legs
            ],
        }
        for key in ("price", "price-effect", "external-identifier", "source"):
            if key in body:
                order[key] = str(body[key])
        return order

    def _book(self, number: str, body: Any, *, order_id: int | None = None) -> dict[str, Any]:
        order = self._validated_order(number, body)
        if order_id is None:
            order_id = self._next_order_id
            self._next_order_id += 1
        order["id"] = order_id
        self._set_status(order, "Live")
        self._accounts[number].orders[order_id] = order
        return order

    @staticmethod
    def _set_status(order: dict[str, Any], status: str) -> None:
        stamp = _now()
        order["status"] = status
        order["updated-at"] = stamp
        order["cancellable"] = order["editable"] = status in ACTIVE_STATUSES
        if status == "Live":
            order["live-at"] = stamp
        elif status == "Cancelled":
            order["cancelled-at"] = order["terminal-at"] = stamp
        elif status == "Filled":
            order["terminal-at"] = stamp
            for leg in order["legs"]:
                leg["remaining-quantity"] = "0"
                leg["fills"] = [
                    {
                        "fill-id": f"{order['id']}-{leg['symbol'].strip()}",
                        "quantity": leg["quantity"],
                        "fill-price": order.get("price", "0"),
                        "filled-at": stamp,
                    }
                ]

    @staticmethod
    def _order_response(order: dict[str, Any]) -> dict[str, Any]:
        return {
            "order": order,
            "buying-power-effect": {
                "change-in-margin-requirement": "0",
                "change-in-margin-requirement-effect": "None",
                "change-in-buying-power": "0",
                "change-in-buying-power-effect": "None",
                "current-buying-power": "100000",
                "current-buying-power-effect": "Credit",
                "new-buying-power": "100000",
                "new-buying-power-effect": "Credit",
                "isolated-order-margin-requirement": "0",
                "isolated-order-margin-requirement-effect": "None",
                "is-spread": len(order["legs"]) > 1,
                "impact": "0",
                "effect": "None",
            },
            "fee-calculation": {
                "regulatory-fees": "0.04",
                "regulatory-fees-effect": "Debit",
                "clearing-fees": "0.20",
                "clearing-fees-effect": "Debit",
                "commission": "0",
                "commission-effect": "None",
                "proprietary-index-option-fees": "0",
                "proprietary-index-option-fees-effect": "None",
                "total-fees": "0.24",
                "total-fees-effect": "Debit",
            },
            "warnings": [],
        }


class _Handler(BaseHTTPRequestHandler):
    protocol_version = "HTTP/1.1"
    server: _Server

    def do_GET(self) -> None:
        self._serve("GET")

    def do_POST(self) -> None:
        self._serve("POST")

    def do_DELETE(self) -> None:
        self._serve("DELETE")

    def do_PUT(self) -> None:
        self._serve("PUT")

    def log_message(self, format: str, *args: Any) -> None:
        # The default writes every request to stderr; the sandbox command prints its own line.
        pass

    def _serve(self, method: str) -> None:
        broker = self.server.broker
        url = urlsplit(self.path)
        length = int(self.headers.get("Content-Length") or 0)
        raw = self.rfile.read(length) if length else b""
        auth = self.headers.get("Authorization", "")
        token = auth[7:] if auth.startswith("Bearer ") else None
        fault = broker.take_fault(method, url.path)
        if fault and fault.kind in {"http500", "http401"}:
            status = 500 if fault.kind == "http500" else 401
            self._answer(method, url.path, status, _error("injected_fault", fault.kind))
            return
        if fault and not fault.after_accept and fault.kind != "slow":
            self._misbehave(method, url.path, fault)
            return
        try:
            body = json.loads(raw) if raw else None
            status, payload = broker.handle(method, url.path, parse_qs(url.query), body, token)
        except json.JSONDecodeError as exc:
            status, payload = 400, _error("invalid_json", f"body is not JSON: {exc}")
        except SandboxError as exc:
            status, payload = exc.status, _error(exc.code, str(exc))
        if fault and fault.kind == "slow":
            broker.stopping.wait(fault.delay)
        elif fault:
            self._misbehave(method, url.path, fault)
            return
        self._answer(method, url.path, status, payload)

    def _misbehave(self, method: str, path: str, fault: Fault) -> None:
        if fault.kind == "timeout":
            self.server.broker.stopping.wait(fault.delay)
            with contextlib.suppress(OSError):
                self._answer(method, path, 504, _error("injected_fault", "timeout"))
            return
        # drop: no status line, no body; the client sees the connection close.
        self.server.broker.requests.append((method, path, 0))
        self.close_connection = True

    def _answer(self, method: str, path: str, status: int, payload: Any) -> None:
        self.server.broker.requests.append((method, path, status))
        self.server.on_request(method, path, status)
        data = json.dumps(payload).encode()
        self.send_response(status, HTTPStatus(status).phrase)
        self.send_header("Content-Type", "application/json")
        self.send_header("Content-Length", str(len(data)))
        self.end_headers()
        self.wfile.write(data)


def _error(code: str, message: str) -> dict[str, Any]:
    return {"error": {"code": code, "message": message}}


class _Server(ThreadingHTTPServer):
    daemon_threads = True
    broker: SandboxBroker

    def on_request(self, method: str, path: str, status: int) -> None:
        pass

    def handle_error(self, request: Any, client_address: Any) -> None:
        # A client that gave up (its timeout) or went away is normal here; the
        # default prints a traceback for it.
        if not isinstance(sys.exc_info()[1], ConnectionError):
            super().handle_error(request, client_address)


class SandboxServer:
    """The fake broker on ``http://127.0.0.1:<port>`` in a background thread.

    Use it as a context manager: the server is stopped (and its thread joined,
    bounded by ``stop_timeout``) on exit, whatever happens inside.
    """

    def __init__(
        self,
        broker: SandboxBroker,
        *,
        host: str = "127.0.0.1",
        port: int = 0,
        on_request: Any = None,
        stop_timeout: float = 10.0,
    ) -> None:
        if host not in {"127.0.0.1", "localhost", "::1"}:
            raise ValueError(f"the sandbox only listens on loopback, not {host!r}")
        self.broker = broker
        self._server = _Server((host, port), _Handler)
        self._server.broker = broker
        if on_request is not None:
            self._server.on_request = on_request  # type: ignore[method-assign]
        self._thread = threading.Thread(
            target=self._server.serve_forever, kwargs={"poll_interval": 0.1}, daemon=True
        )
        self._stop_timeout = stop_timeout

    @property
    def url(self) -> str:
        host, port = self._server.server_address[:2]
        return f"http://{host!s}:{port}"

    def start(self) -> SandboxServer:
        self._thread.start()
        return self

    def stop(self) -> None:
        self.broker.stopping.set()
        if self._thread.is_alive():
            self._server.shutdown()
            self._thread.join(self._stop_timeout)
        self._server.server_close()

    def __enter__(self) -> SandboxServer:
        return self.start()

    def __exit__(self, *exc_info: object) -> None:
        self.stop()


@contextlib.contextmanager
def running_sandbox(broker: SandboxBroker, **kwargs: Any) -> Iterator[SandboxServer]:
    with SandboxServer(broker, **kwargs) as server:
        yield server
