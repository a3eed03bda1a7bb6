"""JsonFormatter: one JSON object per line with the event dict."""

from __future__ import annotations

import io
import json
import logging

import pytest

from async_guard.runtime.logging import JsonFormatter
from tests.runtime import programs


@pytest.fixture
def json_log():
    stream = io.StringIO()
    handler = logging.StreamHandler(stream)
    handler.setFormatter(JsonFormatter())
    logger = logging.getLogger("async_guard")
    logger.addHandler(handler)
    try:
        yield stream
    finally:
        logger.removeHandler(handler)


@pytest.mark.django_db(transaction=True)
def test_event_is_one_json_line(json_log):
    programs.lost_write_asyncio_run("json")
    lines = json_log.getvalue().splitlines()
    assert len(lines) == 2
    first = json.loads(lines[0])
    assert first["level"] == "ERROR"
    assert first["logger"] == "async_guard"
    assert first["message"].startswith("AGR101 ")
    assert first["async_guard"]["code"] == "AGR101"
    assert first["async_guard"]["in_atomic_block"] is True
    assert set(first["async_guard"]) >= {
        "code",
        "unit",
        "thread",
        "owner_thread",
        "db_alias",
        "in_atomic_block",
        "sql",
        "where",
    }


def test_plain_record_and_exception(json_log):
    logger = logging.getLogger("async_guard")
    try:
        raise ValueError("bad\nline")
    except ValueError:
        logger.error("not an event %s", "x", exc_info=True)
    (line,) = json_log.getvalue().splitlines()
    data = json.loads(line)
    assert data["message"] == "not an event x"
    assert data["async_guard"] is None
    assert "ValueError" in data["exc_info"]


def test_where_is_user_code(json_log):
    loop = programs.loop_left_open()
    loop.close()
    data = json.loads(json_log.getvalue().splitlines()[0])
    assert data["async_guard"]["where"]["file"].endswith("tests/runtime/programs.py")
    assert data["async_guard"]["unit"] == "open-loop"
