"""The names of Django's and asgiref's API that the analysis recognises."""

from __future__ import annotations

MODEL_ROOTS = frozenset({"django.db.models.Model", "django.db.models.base.Model"})
#: Relation field classes, by the kind of relation they make.
FIELD_KINDS = {
    "ForeignKey": "fk",
    "OneToOneField": "o2o",
    "ManyToManyField": "m2m",
    "ParentalKey": "fk",
    "ParentalManyToManyField": "m2m",
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
#: Calls that return a model class: ``get_user_model()``, ``apps.get_model(...)``.
GET_USER_MODEL = frozenset(
    {"django.contrib.auth.get_user_model", "django.contrib.auth.base_user.get_user_model"}
)
GET_MODEL = frozenset({"django.apps.apps.get_model", "django.apps.registry.apps.get_model"})
#: A reference to ``settings.AUTH_USER_MODEL`` (in a relation field, or the user model).
USER_MODEL_REF = "@user"
AUTH_USER_MODEL = "django.conf.settings.AUTH_USER_MODEL"
#: Django's URL routing functions: ``path(route, view)``.
URL_FUNCTIONS = frozenset(
    {"django.urls.path", "django.urls.re_path", "django.conf.urls.url",
     "django.urls.conf.path", "django.urls.conf.re_path"}
)  # fmt: skip
#: Words a name of the class, or of one of its bases, holds when its methods may return
#: querysets (managers, querysets, their mixins): only those methods are looked at.
QUERYSET_CLASS_WORDS = ("Manager", "QuerySet", "Queryset", "Mixin")
#: The coroutine methods of a ``django.tasks`` Task (``@task`` makes one of a function).
TASK_COROUTINE_METHODS = frozenset({"aenqueue", "acall", "aget_result"})
