"""``AsyncGuardError`` survives every way an exception travels: pickle, ``copy``, another
process, and Celery's result serializers, with its class, ``code`` and message.

Celery's part runs its real result backend code (``celery.backends.base``): the meta a
worker stores for a failed task, encoded and decoded as a result backend does. A real
worker: tests/runtime_integration/test_error_results.py.
"""

from __future__ import annotations

import copy
import multiprocessing
import pickle
from concurrent.futures import ProcessPoolExecutor

import pytest
from celery import Celery, states
from kombu.serialization import loads

from async_guard import AsyncGuardError

MESSAGE = "query on thread 'ThreadPoolExecutor-0_0', but 'close' runs on 'MainThread'"


class SubclassedError(AsyncGuardError):
    """A project's own subclass, as a team may define to catch its guard errors apart."""


def make(cls: type[AsyncGuardError] = AsyncGuardError) -> AsyncGuardError:
    error = cls("AGR101", MESSAGE)
    if hasattr(error, "add_note"):  # Python 3.11+: notes live in __dict__ and must travel too
        error.add_note("noted by the caller")
    return error


def assert_same(copied: BaseException, original: AsyncGuardError) -> None:
    assert type(copied) is type(original)
    assert isinstance(copied, AsyncGuardError)
    assert copied.code == original.code == "AGR101"
    assert copied.message == original.message == MESSAGE
    assert str(copied) == str(original) == f"AGR101 {MESSAGE}"
    assert copied.args == original.args == ("AGR101", MESSAGE)
    assert getattr(copied, "__notes__", None) == getattr(original, "__notes__", None)


def test_str_reads_code_then_message() -> None:
    error = AsyncGuardError("AGR109", "the call can never complete")
    assert str(error) == "AGR109 the call can never complete"
    assert isinstance(error, RuntimeError)


def test_repr_rebuilds_the_error() -> None:
    error = AsyncGuardError("AGR101", "x")
    assert repr(error) == "AsyncGuardError('AGR101', 'x')"
    rebuilt = eval(repr(error), {"AsyncGuardError": AsyncGuardError})
    assert type(rebuilt) is AsyncGuardError and rebuilt.code == "AGR101"


def test_keyword_arguments() -> None:
    error = AsyncGuardError(code="AGR102", message="loop left open")
    assert error.args == ("AGR102", "loop left open")
    assert pickle.loads(pickle.dumps(error)).code == "AGR102"


@pytest.mark.parametrize("cls", [AsyncGuardError, SubclassedError])
@pytest.mark.parametrize("protocol", range(pickle.HIGHEST_PROTOCOL + 1))
def test_pickle_round_trip(cls: type[AsyncGuardError], protocol: int) -> None:
    original = make(cls)
    assert_same(pickle.loads(pickle.dumps(original, protocol=protocol)), original)


@pytest.mark.parametrize("cls", [AsyncGuardError, SubclassedError])
@pytest.mark.parametrize("copier", [copy.copy, copy.deepcopy], ids=["copy", "deepcopy"])
def test_copy(cls: type[AsyncGuardError], copier: object) -> None:
    original = make(cls)
    copied = copier(original)  # type: ignore[operator]
    assert copied is not original
    assert_same(copied, original)


def test_attributes_set_later_travel_too() -> None:
    error = make()
    error.unit = "trading.tasks.close_position[1]"  # type: ignore[attr-defined]
    assert pickle.loads(pickle.dumps(error)).unit == error.unit


def raise_guard_error(code: str) -> None:
    raise AsyncGuardError(code, MESSAGE)


def test_raised_in_another_process() -> None:
    """multiprocessing hands a child's exception back pickled."""
    context = multiprocessing.get_context("spawn")
    with ProcessPoolExecutor(max_workers=1, mp_context=context) as pool:
        future = pool.submit(raise_guard_error, "AGR107")
        with pytest.raises(AsyncGuardError) as raised:
            future.result(timeout=120)
    assert raised.value.code == "AGR107" and raised.value.message == MESSAGE


# -- Celery's result backends -------------------------------------------------------


def memory_app(serializer: str) -> Celery:
    """Celery with its in-process cache backend: the code a Redis backend runs, minus Redis."""
    return Celery(
        f"async-guard-error-tests-{serializer}",
        set_as_current=False,
        backend="cache+memory://",
        config_source={"result_serializer": serializer, "result_accept_content": [serializer]},
    )


@pytest.mark.parametrize("cls", [AsyncGuardError, SubclassedError])
@pytest.mark.parametrize("serializer", ["json", "pickle"])
def test_celery_result_backend_round_trip(serializer: str, cls: type[AsyncGuardError]) -> None:
    """What a worker stores for the failed task, and what ``AsyncResult`` reads back."""
    app = memory_app(serializer)
    task_id = f"errors-{serializer}-{cls.__name__}"
    app.backend.store_result(task_id, cls("AGR101", MESSAGE), states.FAILURE)
    stored = app.backend.get(app.backend.get_key_for_task(task_id))
    raw = loads(
        stored, app.backend.content_type, app.backend.content_encoding, accept=app.backend.accept
    )
    if serializer == "json":
        # The class's place and its args; Celery reads it back as cls(*args).
        assert raw["result"] == {
            "exc_type": cls.__qualname__,
            "exc_message": ["AGR101", MESSAGE],
            "exc_module": cls.__module__,
        }
    else:
        assert type(raw["result"]) is cls
    result = app.AsyncResult(task_id)
    assert result.state == states.FAILURE
    rebuilt = result.result
    assert type(rebuilt) is cls
    assert rebuilt.code == "AGR101" and rebuilt.message == MESSAGE
    assert str(rebuilt) == f"AGR101 {MESSAGE}"


def test_celery_keeps_the_error_as_is() -> None:
    """Celery swaps an exception it cannot pickle for its nearest picklable base class
    (``RuntimeError``): the worker's report to its parent and an eager ``apply()``."""
    from celery.utils.serialization import get_pickleable_exception

    error = make()
    assert get_pickleable_exception(error) is error
