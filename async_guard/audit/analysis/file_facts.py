"""What one file contributes to the project: the picklable record of its facts (the
fact collector, ``analysis.facts``, fills it)."""

from __future__ import annotations

from dataclasses import dataclass, field


@dataclass
class FileFacts:
    """What one file contributes to the project index."""

    module: str
    path: str = ""
    #: Another name the module is imported by (see ``source.module_names``).
    alias: str = ""
    imports: dict[str, str] = field(default_factory=dict)
    #: Modules it imports ``*`` from (their public names are its names too).
    star_imports: list[str] = field(default_factory=list)
    functions: dict[str, bool] = field(default_factory=dict)  # qualname -> is async
    # async defs whose call returns no coroutine: async generators, and those a
    # decorator may have turned into something else (``@async_to_sync``).
    not_coroutines: set[str] = field(default_factory=set)
    classes: dict[str, tuple[str, ...]] = field(default_factory=dict)  # qualname -> bases
    fields: dict[str, dict[str, str]] = field(default_factory=dict)
    #: Relation fields: class -> field -> (kind, target reference, related_name); the
    #: reference as ``model_facts.model_reference`` writes it, related_name None when
    #: absent and "?" when the code computes it.
    relations: dict[str, dict[str, tuple[str, str, str | None]]] = field(default_factory=dict)
    #: Classes whose ``Meta`` says ``abstract = True``; ``Meta.app_label``s.
    abstract: set[str] = field(default_factory=set)
    app_labels: dict[str, str] = field(default_factory=dict)
    #: Managers declared in class bodies: class -> attribute -> the classes whose
    #: methods the manager offers (its class; with ``as_manager``/``from_queryset``,
    #: the queryset class).
    managers: dict[str, dict[str, tuple[str, ...]]] = field(default_factory=dict)
    #: Methods of manager and queryset classes whose every return is a queryset.
    queryset_methods: set[str] = field(default_factory=set)
    #: Module-level names bound to a model by ``get_user_model()``/``apps.get_model()``.
    model_refs: dict[str, str] = field(default_factory=dict)
    #: The values of module-level ``AUTH_USER_MODEL`` assignments ("" if not a literal).
    user_models: set[str] = field(default_factory=set)
    #: Classes routed as views by a URLconf (``X.as_view()``, ``router.register``).
    routed: set[str] = field(default_factory=set)
    calls: dict[str, set[str]] = field(default_factory=dict)
    entries: dict[str, str] = field(default_factory=dict)
    orm_refs: dict[str, set[str]] = field(default_factory=dict)
    async_orm: set[str] = field(default_factory=set)
    #: Functions that call a sync->async bridge (their findings depend on their context).
    bridges: set[str] = field(default_factory=set)
