"""Exceptions raised by async_guard."""

from __future__ import annotations


class AsyncGuardError(RuntimeError):
    """Raised at the point of detection when ``ASYNC_GUARD["MODE"]`` is ``"raise"``.

    ``code`` is the event code (``AGR101`` ...), so a caller or a test can tell
    which guard fired without parsing the message.

    ``args`` is ``(code, message)``, the arguments of ``__init__``, because
    every way an exception travels rebuilds it as ``cls(*args)``: pickle and
    ``copy`` (a Celery worker's result, a prefork child's report to its parent,
    multiprocessing), and Celery's json result serializer, which stores the
    class's module and name beside ``args`` and calls the class with them.
    ``str()`` still reads ``"AGR101 <message>"``.
    """

    def __init__(self, code: str, message: str) -> None:
        super().__init__(code, message)
        self.code = code
        self.message = message

    def __str__(self) -> str:
        return f"{self.code} {self.message}"
