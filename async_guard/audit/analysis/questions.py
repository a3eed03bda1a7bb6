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
    "is_coroutine_function",
    "class_role",
    "entry_context",
    "contexts_of",
    "reaches_orm",
    "reaches_async_orm",
)
#: Questions about what a name is (rather than what a function reaches).
TYPE_QUESTIONS = frozenset(
    {"is_model", "model_fields", "model_managers", "class_role", "is_coroutine_function",
     "entry_context"}
)  # fmt: skip
