"""The ``ASYNC_GUARD`` setting, read at use time so that ``override_settings`` works.

One scheme, as Django's own settings: every key is upper case, at the top level
and inside ``AUDIT``. docs/settings.md has the table.

Every default lives in :data:`DEFAULTS`. :func:`validate` is what the system
check reports, one problem and a hint naming the key each; the runtime itself
never raises on a bad setting (the guard must not break the application): an
unknown mode reads as the default.
"""

from __future__ import annotations

import re
from collections.abc import Mapping
from typing import Any, Literal, NamedTuple, cast

from django.conf import settings

Mode = Literal["warn", "raise", "off"]

MODES: tuple[Mode, ...] = ("warn", "raise", "off")

#: What ``manage.py check`` does with the audit (see :data:`DEFAULTS`).
AUDIT_CHECK_VALUES = ("off", "warn", "error", "deploy")

DEFAULTS: dict[str, Any] = {
    "MODE": "warn",
    # Per-event overrides of MODE: {"AGR102": "off", "AGR101": "raise"}.
    "EVENT_MODES": {},
    # Call sites whose events are dropped: "path/to/file.py:LINE" or "module.function".
    "ALLOW": [],
    # The static audit's configuration: the keys of [tool.async_guard], upper case.
    "AUDIT": {},
    # Whether ``manage.py check`` runs the audit, and when its error findings are
    # Errors rather than Warnings (never when the checks run before another command).
    "AUDIT_CHECK": "off",
}

#: The keys ``AUDIT`` takes: ``[tool.async_guard]``'s, as Django settings spell them.
AUDIT_KEYS: dict[str, str] = {
    "SELECT": "a list of rule codes or prefixes, such as ['AG1', 'AG201']",
    "IGNORE": "a list of rule codes or prefixes, such as ['AG2']",
    "EXCLUDE": "a list of path globs, such as ['legacy/*']",
    "PER_FILE_IGNORES": "a dict of path glob to rule codes, such as {'scripts/*': ['AG103']}",
    "TASK_DECORATORS": "a list of dotted decorator names that make a Celery task",
    "KNOWN_ASYNC": "a list of dotted names of functions that return a coroutine",
    "FAIL_ON": "'error', 'warning' or 'never'",
    "CACHE": "True or False",
    "JOBS": "a whole number of worker processes, 0 for all cores",
    "PROJECT_ROOT": "the folder of the project the index is built from, such as BASE_DIR",
    "SRC": "a list of source folders where module names start, such as ['src']",
}

#: Keys earlier versions read, and what replaced them.
_RENAMED = {
    "CHECKS": (
        "ASYNC_GUARD['CHECKS'] is no longer read: per-event modes are now "
        "ASYNC_GUARD['EVENT_MODES']",
        "Rename the key: ASYNC_GUARD = {'EVENT_MODES': {'AGR101': 'raise'}}.",
    ),
}
_AUDIT_RENAMED = (
    "ASYNC_GUARD['AUDIT']['CHECKS'] is no longer read: ASYNC_GUARD['AUDIT_CHECK'] "
    "switches the audit on in manage.py check",
    "Remove AUDIT['CHECKS'] and set ASYNC_GUARD['AUDIT_CHECK'] = 'warn' (or 'error' / "
    "'deploy' to fail manage.py check / check --deploy on error findings).",
)

EVENT_CODE = re.compile(r"^AGR1\d\d$")


class Problem(NamedTuple):
    """One thing wrong with the setting, and how to put it right (both name the key)."""

    message: str
    hint: str


def user_settings() -> Mapping[str, Any]:
    value = getattr(settings, "ASYNC_GUARD", None)
    # ``type() is dict`` first: this runs at the start of every request and task.
    return value if type(value) is dict or isinstance(value, Mapping) else {}


def get(name: str) -> Any:
    return user_settings().get(name, DEFAULTS[name])


def mode() -> Mode:
    value = get("MODE")
    return cast(Mode, value) if value in MODES else "warn"


_MISSING = object()
# The lazy settings object keeps one instance dict all its life: Django clears
# it in place when the settings change, never replaces it. Its ``get``, bound
# once, saves an attribute lookup at the start of every request and task.
_cached_setting = object.__getattribute__(settings, "__dict__").get


def off() -> bool:
    """``mode() == "off"``, read where every request and task starts.

    Django keeps a setting it has read in the ``settings`` object's own dict,
    and drops it there when the setting changes (``override_settings``, an
    assignment); reading that dict skips the lazy object's Python-level
    attribute lookup. Anything else goes the ordinary way.
    """
    value = _cached_setting("ASYNC_GUARD", _MISSING)
    if type(value) is dict:
        return value.get("MODE") == "off"
    return mode() == "off"


def action(code: str) -> Mode:
    """What to do with event ``code``: its EVENT_MODES override, else MODE."""
    overrides = get("EVENT_MODES")
    override = overrides.get(code) if isinstance(overrides, Mapping) else None
    return cast(Mode, override) if override in MODES else mode()


def allow_list() -> tuple[str, ...]:
    value = get("ALLOW")
    if isinstance(value, str) or not isinstance(value, (list, tuple)):
        return ()
    return tuple(item for item in value if isinstance(item, str))


def audit_settings() -> Mapping[str, Any]:
    """``AUDIT`` as written ({} when it is missing or not a dict)."""
    value = get("AUDIT")
    return value if isinstance(value, Mapping) else {}


def audit_check() -> str:
    """``AUDIT_CHECK``; a bad value reads as ``"off"`` (the system check reports it)."""
    value = get("AUDIT_CHECK")
    return value if value in AUDIT_CHECK_VALUES else "off"


def validate(value: object) -> list[Problem]:
    """Problems with an ``ASYNC_GUARD`` value, each naming the key and the bad value."""
    if value is None:
        return []
    if not isinstance(value, Mapping):
        return [
            Problem(
                f"ASYNC_GUARD must be a dict, not {type(value).__name__}",
                "Write ASYNC_GUARD = {'MODE': 'warn'} (see docs/settings.md).",
            )
        ]
    problems: list[Problem] = []
    for key in value:
        if key in DEFAULTS:
            continue
        if key in _RENAMED:
            problems.append(Problem(*_RENAMED[key]))
        else:
            problems.append(_unknown("ASYNC_GUARD", key, DEFAULTS))
    if "MODE" in value and value["MODE"] not in MODES:
        problems.append(
            Problem(
                f"ASYNC_GUARD['MODE'] is {value['MODE']!r}",
                "Set ASYNC_GUARD['MODE'] to 'warn', 'raise' or 'off'.",
            )
        )
    problems.extend(_event_modes(value.get("EVENT_MODES", {})))
    problems.extend(_allow(value.get("ALLOW", [])))
    if value.get("AUDIT_CHECK", "off") not in AUDIT_CHECK_VALUES:
        problems.append(
            Problem(
                f"ASYNC_GUARD['AUDIT_CHECK'] is {value['AUDIT_CHECK']!r}",
                "Set ASYNC_GUARD['AUDIT_CHECK'] to 'off', 'warn', 'error' or 'deploy'.",
            )
        )
    problems.extend(validate_audit(value.get("AUDIT", {})))
    return problems


def _unknown(where: str, key: object, known: Mapping[str, Any]) -> Problem:
    return Problem(
        f"{where} has an unknown key {key!r}",
        f"The keys of {where} are {', '.join(known)} (see docs/settings.md).",
    )


def _event_modes(overrides: object) -> list[Problem]:
    hint = "ASYNC_GUARD['EVENT_MODES'] maps event codes to a mode: {'AGR101': 'raise'}."
    if not isinstance(overrides, Mapping):
        return [
            Problem(
                f"ASYNC_GUARD['EVENT_MODES'] must be a dict, not {type(overrides).__name__}", hint
            )
        ]
    problems = []
    for code, override in overrides.items():
        if not isinstance(code, str) or not EVENT_CODE.match(code):
            problems.append(
                Problem(
                    f"ASYNC_GUARD['EVENT_MODES'] has an unknown event code {code!r}",
                    "Event codes are AGR101 ... AGR109 (docs/runtime.md); "
                    "AG1xx codes are the audit's (ASYNC_GUARD['AUDIT']['IGNORE']).",
                )
            )
        elif override not in MODES:
            problems.append(
                Problem(
                    f"ASYNC_GUARD['EVENT_MODES'][{code!r}] is {override!r}",
                    f"Set ASYNC_GUARD['EVENT_MODES'][{code!r}] to 'warn', 'raise' or 'off'.",
                )
            )
    return problems


def _allow(allow: object) -> list[Problem]:
    hint = (
        "ASYNC_GUARD['ALLOW'] lists call sites: 'apps/billing/tasks.py:42' or "
        "'apps.billing.tasks.sync_invoices'."
    )
    if isinstance(allow, str) or not isinstance(allow, (list, tuple)):
        return [Problem("ASYNC_GUARD['ALLOW'] must be a list", hint)]
    return [
        Problem(f"ASYNC_GUARD['ALLOW'] entry {item!r} is not 'file.py:LINE' or 'module.func'", hint)
        for item in allow
        if not isinstance(item, str) or not item.strip()
    ]


def validate_audit(audit: object) -> list[Problem]:
    """Problems with ``ASYNC_GUARD["AUDIT"]``: keys (upper case, known) and their values."""
    if not isinstance(audit, Mapping):
        return [
            Problem(
                f"ASYNC_GUARD['AUDIT'] must be a dict, not {type(audit).__name__}",
                "Write ASYNC_GUARD['AUDIT'] = {'IGNORE': ['AG2']} (see docs/settings.md).",
            )
        ]
    from async_guard.audit.config import ConfigError, from_mapping

    problems = []
    for key, value in audit.items():
        spelled = str(key).replace("-", "_").upper()
        if str(key).upper() == "CHECKS":
            problems.append(Problem(*_AUDIT_RENAMED))
        elif spelled in AUDIT_KEYS and key != spelled:
            problems.append(
                Problem(
                    f"ASYNC_GUARD['AUDIT'] key {key!r} is not upper case",
                    f"Write it {spelled!r}: every key of ASYNC_GUARD is upper case, as in "
                    "Django's own settings.",
                )
            )
        elif spelled not in AUDIT_KEYS:
            problems.append(_unknown("ASYNC_GUARD['AUDIT']", key, AUDIT_KEYS))
        else:
            try:
                from_mapping({key: value}, "ASYNC_GUARD['AUDIT']")
            except ConfigError as error:
                problems.append(Problem(str(error), f"{key} takes {AUDIT_KEYS[key]}."))
    return problems
