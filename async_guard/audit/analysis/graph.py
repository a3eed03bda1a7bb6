"""Django's model graph, answered from the facts: relations both ways, managers, the
user model, app labels. Part of :class:`~async_guard.audit.analysis.index.ProjectIndex`
(a base class of it, so that the index stays one object with one set of memos).

What it knows, and from where:

* a relation field (``ForeignKey``, ``OneToOneField``, ``ManyToManyField``) names its
  target as a class, an ``"app_label.Model"`` string (or ``"Model"``, ``"self"``), or
  ``settings.AUTH_USER_MODEL``; the target gets a reverse accessor: ``related_name``,
  else ``<model>_set`` (a one-to-one: ``<model>``), none for a name ending in ``+``.
  A relation declared on an abstract model adds an accessor only when its
  ``related_name`` is a plain name (it is then the same for every concrete child);
* a model's app label is its ``Meta.app_label``, else the package its ``models``
  module (or package) lies in (a class outside one has none: an ``"app.Model"``
  string never names it);
* the user model is the literal ``AUTH_USER_MODEL`` of the settings modules read
  (``auth.User`` when none sets it; unknown when they disagree or compute it), or
  the app registry's;
* what the app registry said (``Config.registry_*``), under ``manage.py audit_async``.

Every answer that looks a name up in an unread module records it in the trail, as
the index's other answers do. The reverse accessors of a model depend on every
relation of the project, which no lookup path reaches: the files that can declare
one hold a word of ``facts.GRAPH_TRIGGERS``, and whoever skips files reads them all.
"""

from __future__ import annotations

from collections.abc import Callable
from typing import TYPE_CHECKING

from async_guard.audit.analysis.django_names import USER_MODEL_REF

if TYPE_CHECKING:
    from async_guard.audit.config import Config

Trail = set[tuple[str, str, bool]]
#: A relation as the questions give it: (kind, target model or "" when unknown).
Relation = tuple[str, str]
#: The accessor a relation of each kind adds to its target.
REVERSE_KINDS = {"fk": "rfk", "m2m": "rm2m", "o2o": "ro2o"}
DEFAULT_USER = "django.contrib.auth.models.User"
MANAGER_SUFFIXES = ("Manager", "QuerySet", "Queryset")


def module_label(parts: list[str]) -> str:
    """The app label a module path gives: the package before its last ``models``
    part (``shop.models``, ``shop.models.order``, ``apps.shop.models``: ``shop``)."""
    if "models" in parts:
        at = len(parts) - 1 - parts[::-1].index("models")
        if at > 0:
            return parts[at - 1]
    return ""


class ModelGraph:
    """The model-graph questions; the index supplies the facts and name resolution."""

    config: Config
    unread: frozenset[str]
    modules: dict[str, dict[str, str]]
    classes: dict[str, tuple[str, ...]]
    fields: dict[str, dict[str, str]]
    relations: dict[str, dict[str, tuple[str, str, str | None]]]
    abstract: set[str]
    app_labels: dict[str, str]
    managers: dict[str, dict[str, tuple[str, ...]]]
    queryset_methods: set[str]
    model_refs: dict[str, str]
    user_models: set[str]
    routed_names: set[str]

    canonical: Callable[..., str]
    is_model: Callable[..., bool]
    _lineage: Callable[[str, Trail | None], list[str]]

    def _graph_memos(self) -> None:
        self._reverse_memo: dict[str, tuple[dict[str, Relation], frozenset[tuple[str, str, bool]]]]
        self._reverse_memo = {}
        self._by_target: dict[str, list[tuple[str, str, str, str | None]]] | None = None
        self._user_memo: tuple[str, frozenset[tuple[str, str, bool]]] | None = None
        self._label_memo: dict[tuple[str, str], tuple[str, frozenset[tuple[str, str, bool]]]] = {}
        self._by_name: dict[str, list[str]] | None = None
        self._label_modules: dict[str, list[str]] | None = None
        self._resolving: set[str] = set()
        self._routed_by_name: dict[str, list[str]] | None = None
        self._registry_relations = {
            model: {name: (kind, target) for name, kind, target in relations}
            for model, relations in self.config.registry_relations
        }
        self._registry_managers = {
            model: dict(managers) for model, managers in self.config.registry_model_managers
        }

    # --- app labels and references ---------------------------------------------------

    def app_label(self, qualname: str) -> str:
        """``Meta.app_label``, else the package that holds the ``models`` module (or
        package) the class is defined in; "" for a class outside one."""
        return self.app_labels.get(qualname) or module_label(qualname.split(".")[:-1])

    def _labelled(self, label: str, name: str, trail: Trail) -> str:
        """The one model class ``label.name`` names, or ""."""
        memo = self._label_memo.get((label, name))
        if memo is None:
            looked: Trail = set()
            memo = (self._find_labelled(label, name, looked), frozenset(looked))
            self._label_memo[(label, name)] = memo
        trail.update(memo[1])
        return memo[0]

    def _find_labelled(self, label: str, name: str, trail: Trail) -> str:
        if self._by_name is None:
            self._by_name = {}
            for qualname in self.classes:
                self._by_name.setdefault(qualname.rsplit(".", 1)[-1], []).append(qualname)
        found = {q for q in self._by_name.get(name, ()) if self.app_label(q) == label}
        # the models modules of that app not read yet, or re-exporting the class
        for module in self._modules_of(label):
            target = self.canonical(f"{module}.{name}", trail, types=True)
            if target in self.classes and self.app_label(target) == label:
                found.add(target)
        models = {q for q in found if self.is_model(q, trail)}
        return models.pop() if len(models) == 1 else ""

    def _modules_of(self, label: str) -> list[str]:
        """The modules (read or not) of an app's ``models`` module or package."""
        if self._label_modules is None:
            self._label_modules = {}
            for module in {*self.modules, *self.unread}:
                found = module_label(module.split("."))
                if found:
                    self._label_modules.setdefault(found, []).append(module)
            for modules in self._label_modules.values():
                modules.sort()
        return self._label_modules.get(label, [])

    def reference(self, reference: str, declaring: str, trail: Trail) -> str:
        """The model a reference names (``model_facts.model_reference``), from a class
        ``declaring`` (``"self"`` and a bare ``"Model"`` are relative to it); ""."""
        if reference == USER_MODEL_REF:
            return self.user_model(trail)
        if reference.startswith("label:"):
            text = reference[len("label:") :]
            if text == "self":
                return declaring
            label, _, name = text.rpartition(".")
            if not label:
                if not declaring:
                    return ""
                label = self.app_label(declaring)
            if reference in self._resolving:
                return ""
            self._resolving.add(reference)
            try:
                return self._labelled(label, name, trail)
            finally:
                self._resolving.discard(reference)
        target = self.canonical(reference, trail, types=True)
        return target if self.is_model(target, trail) else ""

    def model_named(self, reference: str, trail: Trail | None = None) -> str:
        """The model ``get_user_model()`` (``@user``) or ``apps.get_model(...)``
        (``label:app.Model``) returns, or "" when the facts do not say."""
        looked: Trail = set()
        found = self.reference(reference, "", looked)
        if trail is not None:
            trail.update(looked)
        return found

    def user_model(self, trail: Trail) -> str:
        if self._user_memo is None:
            looked: Trail = set()
            self._user_memo = (self._user_model(looked), frozenset(looked))
        trail.update(self._user_memo[1])
        return self._user_memo[0]

    def _user_model(self, trail: Trail) -> str:
        if self.config.registry_user_model:
            return self.config.registry_user_model
        values = self.user_models or {"auth.User"}
        if len(values) != 1:
            return ""
        (value,) = values
        if value == "auth.User":
            return DEFAULT_USER
        return self.reference(f"label:{value}", "", trail) if "." in value else ""

    # --- relations -----------------------------------------------------------------

    def _accessor(self, model: str, kind: str, related_name: str | None) -> str:
        """The reverse accessor a relation of ``model`` adds to its target, or ""."""
        if related_name is not None:
            if related_name == "?" or related_name.endswith("+"):
                return ""
            if "%(" in related_name:
                if model in self.abstract:
                    return ""
                values = {
                    "class": model.rsplit(".", 1)[-1].lower(),
                    "model_name": model.rsplit(".", 1)[-1].lower(),
                    "app_label": self.app_label(model).lower(),
                }
                try:
                    return related_name % values
                except (KeyError, ValueError, TypeError):
                    return ""
            return related_name
        if model in self.abstract:
            return ""  # named after each concrete child, which may live anywhere
        name = model.rsplit(".", 1)[-1].lower()
        return name if kind == "o2o" else f"{name}_set"

    def _relations_named(self) -> dict[str, list[tuple[str, str, str, str | None]]]:
        """Every relation, by the last name of the class its reference names (``@user``
        for the user model): (declaring class, kind, reference, related_name)."""
        if self._by_target is None:
            self._by_target = {}
            for model in sorted(self.relations):
                for kind, reference, related_name in self.relations[model].values():
                    if reference == USER_MODEL_REF:
                        key = reference
                    elif reference == "label:self":
                        key = model.rsplit(".", 1)[-1]
                    else:
                        key = reference.rsplit(".", 1)[-1]
                    self._by_target.setdefault(key, []).append(
                        (model, kind, reference, related_name)
                    )
        return self._by_target

    def _reverse(self, target: str) -> tuple[dict[str, Relation], frozenset[tuple[str, str, bool]]]:
        """The reverse accessors relations add to class ``target`` (and only the lookups
        of the relations whose reference can name it: same last name, or the user model)."""
        memo = self._reverse_memo.get(target)
        if memo is None:
            found: dict[str, Relation] = {}
            looked: Trail = set()
            named = self._relations_named()
            candidates = list(named.get(target.rsplit(".", 1)[-1], ()))
            if USER_MODEL_REF in named and self.user_model(looked) == target:
                candidates.extend(named[USER_MODEL_REF])
            for model, kind, reference, related_name in candidates:
                accessor = self._accessor(model, kind, related_name)
                if (
                    accessor
                    and self.is_model(model, looked)
                    and self.reference(reference, model, looked) == target
                ):
                    found[accessor] = (REVERSE_KINDS[kind], model)
            memo = self._reverse_memo[target] = (found, frozenset(looked))
        return memo

    def model_relations(self, qualname: str, trail: Trail | None = None) -> dict[str, Relation]:
        """A model's relations, inherited and reverse ones included: attribute ->
        (kind, related model or ""). Kinds: ``fk``, ``o2o``, ``m2m`` (declared on it),
        ``rfk``, ``ro2o``, ``rm2m`` (declared on the other model)."""
        looked: Trail = set()
        out: dict[str, Relation] = {}
        if self.is_model(qualname, looked):
            model = self.canonical(qualname, looked, types=True)
            for name in reversed(self._lineage(qualname, looked)):
                reverse, passed = self._reverse(name)
                looked.update(passed)
                out.update(reverse)
                for field, kind in self.fields.get(name, {}).items():
                    if kind in REVERSE_KINDS:
                        out[field] = (kind, "")
                declaring = model if name in self.abstract else name
                for field, (kind, reference, _) in self.relations.get(name, {}).items():
                    out[field] = (kind, self.reference(reference, declaring, looked))
            out.update(self._registry_relations.get(model, {}))
        if trail is not None:
            trail.update(looked)
        return out

    # --- managers and querysets --------------------------------------------------------

    def manager_sources(self, qualname: str, trail: Trail | None = None) -> tuple[str, ...]:
        """``<model>.<manager>``: the classes whose methods that manager offers (its
        class, and the queryset class of ``as_manager``/``from_queryset``)."""
        looked: Trail = set()
        model, _, attr = qualname.rpartition(".")
        found: tuple[str, ...] = ()
        if self.is_model(model, looked):
            registry = self._registry_managers.get(self.canonical(model, looked, types=True), {})
            sources = registry.get(attr)
            for name in self._lineage(model, looked):
                if sources is not None:
                    break
                sources = self.managers.get(name, {}).get(attr)
            found = tuple(self.canonical(s, looked, types=True) for s in sources or ())
        if trail is not None:
            trail.update(looked)
        return found

    def is_manager(self, sources: tuple[str, ...], trail: Trail | None) -> bool:
        """A class attribute made by calling ``sources`` is a manager: one of them, or a
        base of theirs, is named like a manager or a queryset class."""
        for source in sources:
            if source.endswith(MANAGER_SUFFIXES):
                return True
            if any(b.endswith(MANAGER_SUFFIXES) for b in self._lineage(source, trail)):
                return True
        return False

    def returns_queryset(self, qualname: str, trail: Trail | None = None) -> bool:
        """Method ``qualname`` (of a manager or queryset class, maybe inherited)
        returns a queryset on every path."""
        return self.canonical(qualname, trail, types=True) in self.queryset_methods

    def routed(self, qualname: str, trail: Trail | None) -> bool:
        """A URLconf routes class ``qualname`` as a view (``as_view()``, a router). Only
        the routes that name a class of the same last name are resolved: a route through
        a re-export under another name is not followed."""
        if self._routed_by_name is None:
            self._routed_by_name = {}
            for name in sorted(self.routed_names):
                self._routed_by_name.setdefault(name.rsplit(".", 1)[-1], []).append(name)
        same = self._routed_by_name.get(qualname.rsplit(".", 1)[-1], ())
        return any(self.canonical(name, trail, types=True) == qualname for name in same)
