"""Python's "coroutine ... was never awaited" warning points where it does without the guard."""

from __future__ import annotations

import asyncio.events
import gc
import types
import warnings
from collections.abc import Callable, Iterator

import pytest

import async_guard
from async_guard.runtime import coroutines
from tests.runtime import programs


@pytest.fixture
def without_guard() -> Iterator[None]:
    coroutines.uninstall()
    pythons = warnings._warn_unawaited_coroutine  # type: ignore[attr-defined]
    try:
        yield
    finally:
        coroutines.uninstall()
        warnings._warn_unawaited_coroutine = pythons  # type: ignore[attr-defined]
        coroutines.install()


def dropped_at_once() -> None:
    programs.fetch_quote()


def dropped_in_a_cycle() -> None:
    holder: list[object] = [programs.fetch_quote()]
    holder.append(holder)
    del holder
    gc.collect()


def dropped_in_a_unit() -> None:
    with async_guard.watch("drops"):
        programs.fetch_quote()


@async_guard.watch()
def dropped_in_a_named_unit() -> None:
    programs.fetch_quote()


def warned(drop: Callable[[], None]) -> list[warnings.WarningMessage]:
    with warnings.catch_warnings(record=True) as caught:
        warnings.simplefilter("always")
        drop()
    return [w for w in caught if "was never awaited" in str(w.message)]


DROPS = [dropped_at_once, dropped_in_a_cycle, dropped_in_a_unit, dropped_in_a_named_unit]


@pytest.mark.parametrize("drop", DROPS, ids=lambda drop: drop.__name__)
def test_the_warning_keeps_its_file_and_line(drop: Callable[[], None], without_guard) -> None:
    plain = warned(drop)
    coroutines.install()
    hook = warnings._warn_unawaited_coroutine  # type: ignore[attr-defined]
    assert hook.__module__ == coroutines.__name__
    guarded = warned(drop)
    assert len(guarded) == len(plain) == 1
    assert (guarded[0].filename, guarded[0].lineno) == (plain[0].filename, plain[0].lineno)
    assert guarded[0].filename == __file__
    assert guarded[0].category is RuntimeWarning
    first_line = str(plain[0].message).splitlines()[0]
    assert (
        str(guarded[0].message).splitlines()[0]
        == first_line
        == ("coroutine 'fetch_quote' was never awaited")
    )
    assert guarded[0].source is not None


def test_the_origin_lists_the_users_frames_only() -> None:
    [caught] = warned(dropped_in_a_named_unit)
    text = str(caught.message)
    assert "Coroutine created at (most recent call last)" in text
    assert "in dropped_in_a_named_unit" in text
    assert "programs.fetch_quote()" in text
    assert coroutines.PREFIX not in text
    assert "async_guard" not in text


def test_an_origin_without_user_frames_is_left_out() -> None:
    """Tracking the user turned on, with a stack shorter than any user frame."""

    coro = types.SimpleNamespace(
        __qualname__="fetch", cr_origin=((asyncio.events.__file__, 80, "_run"),)
    )
    assert coroutines.never_awaited_text(coro) == "coroutine 'fetch' was never awaited"


def test_a_hook_installed_before_the_guard_is_still_called(without_guard) -> None:
    seen: list[object] = []

    def theirs(coro: object) -> None:
        seen.append(coro)

    warnings._warn_unawaited_coroutine = theirs  # type: ignore[attr-defined]
    coroutines.install()
    with warnings.catch_warnings(record=True) as caught:
        warnings.simplefilter("always")
        dropped_at_once()
    assert len(seen) == 1 and caught == []
    coroutines.uninstall()
    assert warnings._warn_unawaited_coroutine is theirs  # type: ignore[attr-defined]
