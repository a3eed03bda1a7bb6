"""Runnable examples beside the reference project (the anti-patterns live in ``antipatterns``)."""
