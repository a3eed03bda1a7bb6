"""Plug-in packages: every module of a package, imported once, registers what it defines.

The audit's rules and the autofix's fixers live one per module and are never
listed by hand: adding a module is adding a rule or a fixer.
"""

from __future__ import annotations

import importlib
import pkgutil
from types import ModuleType


def import_submodules(package: ModuleType) -> None:
    """Import every module under ``package`` (and under its subpackages)."""
    for info in pkgutil.walk_packages(package.__path__, prefix=f"{package.__name__}."):
        importlib.import_module(info.name)
