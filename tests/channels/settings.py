"""The guard lab with Channels (``DJANGO_SETTINGS_MODULE=tests.channels.settings``).

``settings.guardlab`` (JSON guard events on stderr, ``ASYNC_GUARD_MODE``,
``GUARDLAB_FAULTS``, ``GUARDLAB_WITHOUT_GUARD``) plus the Channels lab's ASGI
application and an in-memory channel layer for the group messages.
"""

from __future__ import annotations

from settings.guardlab import *  # noqa: F403

ASGI_APPLICATION = "tests.channels.asgi.application"
CHANNEL_LAYERS = {"default": {"BACKEND": "channels.layers.InMemoryChannelLayer"}}
