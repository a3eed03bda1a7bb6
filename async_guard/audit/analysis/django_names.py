"""The names of Django's and asgiref's API that the analysis recognises."""

from __future__ import annotations

MODEL_ROOTS = frozenset({"django.db.models.Model", "django.db.models.base.Model"})
#: Relation field classes, by the kind of relation they make.
FIELD_KINDS = {
    "ForeignKey": "fk",
    "OneToOneField": "o2o",
    "ManyToManyField": "m2m",
    "ParentalKey": "fk",
    "TreeForeignKey": "fk",
}
#: Django's async ORM API (the ``a``-prefixed methods of managers, querysets, instances).
ASYNC_ORM_METHODS = frozenset(
    {"aget", "acreate", "aget_or_create", "aupdate_or_create", "abulk_create", "abulk_update",
     "acount", "ain_bulk", "aiterator", "alatest", "aearliest", "afirst", "alast",
     "aaggregate", "aexists", "acontains", "aupdate", "adelete", "aexplain", "asave",
     "arefresh_from_db", "aadd", "aremove", "aclear", "aset"}
)  # fmt: skip
SYNC_TO_ASYNC = frozenset(
    {"asgiref.sync.sync_to_async", "asgiref.sync.SyncToAsync",
     "channels.db.database_sync_to_async"}
)  # fmt: skip
MANAGER_ATTRS = frozenset({"objects", "_default_manager", "_base_manager"})
#: The coroutine methods of a ``django.tasks`` Task (``@task`` makes one of a function).
TASK_COROUTINE_METHODS = frozenset({"aenqueue", "acall", "aget_result"})
