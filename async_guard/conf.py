"""The ``ASYNC_GUARD`` setting, read at use time so that ``override_settings`` works.

Every default lives in :data:`DEFAULTS`. :func:`validate` is what the system
check reports; the runtime itself never raises on a bad setting (the guard
must not break the application): an unknown mode reads as the default.
"""

from __future__ import annotations

import re
from collections.abc import Mapping
from typing import Any, Literal, cast

from django.conf import settings

Mode = Literal["warn", "raise", "off"]

MODES: tuple[Mode, ...] = ("warn", "raise", "off")

DEFAULTS: dict[str, Any] = {
    "MODE": "warn",
    # Per-event overrides of MODE: {"AGR102": "off", "AGR101": "raise"}.
    "CHECKS": {},
    # Call sites whose events are dropped: "path/to/file.py:LINE" or "module.function".
    "ALLOW": [],
    # Read by the static audit (async_guard.audit); the runtime only accepts the key.
    "AUDIT": {},
}

EVENT_CODE = re.compile(r"^AGR1\d\d$")


def user_settings() -> Mapping[str, Any]:
    value = getattr(settings, "ASYNC_GUARD", None)
    # ``type() is dict`` first: this runs at the start of every request and task.
    return value if type(value) is dict or isinstance(value, Mapping) else {}


def get(name: str) -> Any:
    return user_settings().get(name, DEFAULTS[name])


def mode() -> Mode:
    value = get("MODE")
    return cast(Mode, value) if value in MODES else "warn"


def action(code: str) -> Mode:
    """What to do with event ``code``: its CHECKS override, else MODE."""
    checks = get("CHECKS")
    override = checks.get(code) if isinstance(checks, Mapping) else None
    return cast(Mode, override) if override in MODES else mode()


def allow_list() -> tuple[str, ...]:
    value = get("ALLOW")
    if isinstance(value, str) or not isinstance(value, (list, tuple)):
        return ()
    return tuple(item for item in value if isinstance(item, str))


def validate(value: object) -> list[str]:
    """Problems with an ``ASYNC_GUARD`` value, each naming the key and the bad value."""
    if value is None:
        return []
    if not isinstance(value, Mapping):
        return [f"ASYNC_GUARD must be a dict, not {type(value).__name__}"]
    problems = [
        f"ASYNC_GUARD has an unknown key {key!r} (known: {', '.join(DEFAULTS)})"
        for key in value
        if key not in DEFAULTS
    ]
    if "MODE" in value and value["MODE"] not in MODES:
        problems.append(f"ASYNC_GUARD['MODE'] is {value['MODE']!r}; use one of {MODES}")
    checks = value.get("CHECKS", {})
    if not isinstance(checks, Mapping):
        problems.append(f"ASYNC_GUARD['CHECKS'] must be a dict, not {type(checks).__name__}")
    else:
        for code, override in checks.items():
            if not isinstance(code, str) or not EVENT_CODE.match(code):
                problems.append(f"ASYNC_GUARD['CHECKS'] has an unknown event code {code!r}")
            elif override not in MODES:
                problems.append(
                    f"ASYNC_GUARD['CHECKS'][{code!r}] is {override!r}; use one of {MODES}"
                )
    allow = value.get("ALLOW", [])
    if isinstance(allow, str) or not isinstance(allow, (list, tuple)):
        problems.append("ASYNC_GUARD['ALLOW'] must be a list of 'file.py:LINE' or 'module.func'")
    else:
        problems.extend(
            f"ASYNC_GUARD['ALLOW'] entry {item!r} is not 'file.py:LINE' or 'module.function'"
            for item in allow
            if not isinstance(item, str) or not item.strip()
        )
    audit = value.get("AUDIT", {})
    if not isinstance(audit, Mapping):
        problems.append(f"ASYNC_GUARD['AUDIT'] must be a dict, not {type(audit).__name__}")
    return problems
