"""The questions the walker and the rules may ask about the rest of the project.

:class:`~async_guard.audit.analysis.index.ProjectIndex` answers them from the
facts of every file it was given. The walk of one file sees only this protocol:
whoever runs the walk may hand it the index itself, or a wrapper that also
records what was asked (the speed layer does, to know when an answer could
change). Each question is a pure function of the facts: asking twice gives the
same answer.
"""

from __future__ import annotations

from typing import Protocol


class Questions(Protocol):
    def is_model(self, qualname: str) -> bool:
        """``qualname`` is a Django model class (it subclasses ``models.Model``)."""
        ...

    def model_fields(self, qualname: str) -> dict[str, str]:
        """A model's fields, inherited ones included: name -> ``fk``, ``o2o``, ``m2m``
        or ``field``."""
        ...

    def model_managers(self, qualname: str) -> frozenset[str]:
        """A model's manager attribute names (``objects`` and declared managers)."""
        ...

    def model_relations(self, qualname: str) -> dict[str, tuple[str, str]]:
        """A model's relations, inherited and reverse ones included: attribute ->
        (kind, related model or "" when unknown). Kinds: ``fk``, ``o2o``, ``m2m``
        (declared on the model), ``rfk``, ``ro2o``, ``rm2m`` (reverse accessors)."""
        ...

    def manager_sources(self, qualname: str) -> tuple[str, ...]:
        """``<model>.<manager attribute>``: the classes whose methods the manager offers
        (its class; the queryset class of ``as_manager()``/``from_queryset()``)."""
        ...

    def returns_queryset(self, qualname: str) -> bool:
        """Method ``qualname`` of a manager or queryset class returns a queryset."""
        ...

    def model_named(self, qualname: str) -> str:
        """The model a reference names: ``@user`` (``get_user_model()``,
        ``settings.AUTH_USER_MODEL``) or ``label:app.Model``; "" when unknown."""
        ...

    def is_coroutine_function(self, qualname: str) -> bool:
        """Calling ``qualname`` surely returns a coroutine."""
        ...

    def class_role(self, qualname: str) -> str | None:
        """The framework role a class plays through its bases (``view``, ``middleware``,
        ``management-command``, ``celery-task``), or None."""
        ...

    def entry_context(self, qualname: str) -> str | None:
        """The entry-point context the code declares for function ``qualname`` (a
        decorator such as ``@shared_task`` or ``@task``, a base class), or None."""
        ...

    def contexts_of(self, qualname: str) -> frozenset[str]:
        """The entry-point contexts that reach function ``qualname`` through calls."""
        ...

    def reaches_orm(self, qualname: str) -> bool:
        """Function ``qualname`` reaches a model's manager, ``sync_to_async`` or the
        async ORM through calls."""
        ...

    def reaches_async_orm(self, qualname: str) -> bool:
        """Function ``qualname`` reaches ``sync_to_async`` or the async ORM through calls."""
        ...


#: The names of the questions, as a wrapper forwards them.
QUESTIONS = (
    "is_model",
    "model_fields",
    "model_managers",
    "model_relations",
    "manager_sources",
    "returns_queryset",
    "model_named",
    "is_coroutine_function",
    "class_role",
    "entry_context",
    "contexts_of",
    "reaches_orm",
    "reaches_async_orm",
)
#: Questions about what a name is (rather than what a function reaches).
TYPE_QUESTIONS = frozenset(
    {"is_model", "model_fields", "model_managers", "model_relations", "manager_sources",
     "returns_queryset", "model_named", "class_role", "is_coroutine_function",
     "entry_context"}
)  # fmt: skip
