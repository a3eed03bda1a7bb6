"""``JsonFormatter``: one JSON object per line, for logs that tests and tools read back.

```python
LOGGING = {
    "version": 1,
    "formatters": {"json": {"()": "async_guard.runtime.logging.JsonFormatter"}},
    "handlers": {"console": {"class": "logging.StreamHandler", "formatter": "json"}},
    "loggers": {"async_guard": {"handlers": ["console"], "level": "WARNING"}},
}
```
"""

from __future__ import annotations

import json
import logging
import os
from typing import Any


class JsonFormatter(logging.Formatter):
    """Format a record as one line of JSON with its ``async_guard`` event fields.

    Keys: ``time`` (epoch seconds), ``level``, ``logger``, ``message``,
    ``process``, ``thread``, ``async_guard`` (the event dict, or null for
    records that are not guard events) and ``exc_info`` (formatted traceback,
    only when the record carries one).
    """

    def format(self, record: logging.LogRecord) -> str:
        payload: dict[str, Any] = {
            "time": record.created,
            "level": record.levelname,
            "logger": record.name,
            "message": record.getMessage(),
            "process": record.process if record.process is not None else os.getpid(),
            "thread": record.threadName,
            "async_guard": getattr(record, "async_guard", None),
        }
        if record.exc_info:
            payload["exc_info"] = self.formatException(record.exc_info)
        return json.dumps(payload, default=repr, ensure_ascii=False)
