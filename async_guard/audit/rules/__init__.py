"""The audit's rules: one module each, found by walking this package (never listed by hand)."""

from __future__ import annotations

import sys

from async_guard.audit.rules.base import Rule
from async_guard.submodules import import_submodules

__all__ = ["Rule", "all_rules", "get_rule"]

_REGISTRY: dict[str, type[Rule]] = {}


def _subclasses(cls: type[Rule]) -> list[type[Rule]]:
    found: list[type[Rule]] = []
    for sub in cls.__subclasses__():
        found.append(sub)
        found.extend(_subclasses(sub))
    return found


def all_rules() -> list[type[Rule]]:
    """Every rule class with a ``code``, sorted by code (imports the rule modules once)."""
    if not _REGISTRY:
        import_submodules(sys.modules[__name__])
        for cls in _subclasses(Rule):
            if not cls.code:
                continue
            other = _REGISTRY.setdefault(cls.code, cls)
            if other is not cls:
                raise RuntimeError(
                    f"two rules claim {cls.code}: {other.__module__}, {cls.__module__}"
                )
    return [_REGISTRY[code] for code in sorted(_REGISTRY)]


def get_rule(code: str) -> type[Rule] | None:
    return {rule.code: rule for rule in all_rules()}.get(code.upper())
