"""Exceptions raised by async_guard."""

from __future__ import annotations


class AsyncGuardError(RuntimeError):
    """Raised at the point of detection when ``ASYNC_GUARD["MODE"]`` is ``"raise"``.

    ``code`` is the event code (``AGR101`` ...), so a caller or a test can tell
    which guard fired without parsing the message.
    """

    def __init__(self, code: str, message: str) -> None:
        super().__init__(f"{code} {message}")
        self.code = code
        self.message = message
