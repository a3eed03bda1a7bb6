"""What a function does with the Django ORM, as far as the code says for certain.

Shared by the ORM rules (AG201-AG204, and AG301 for the ``a``-prefixed API). An
expression is the ORM only when it starts at a manager of a *real* model: a class
the project index knows subclasses ``models.Model`` (in the scanned tree through
project bases, or from the app registry). ``bucket.objects.all()`` of boto3, or
``objects`` of any other class, is not the ORM; neither is anything whose type the
code does not state. Precision matters more than recall: when unsure, nothing is
recorded, and the rules stay silent.

One pass over a function body, in source order, keeps an environment of the local
names that hold a queryset or a model instance (with the relations loaded with it
through ``select_related``/``prefetch_related``) and records:

* *evaluations*: a query that runs right there (``get()``, ``count()``, ``save()`` on
  an instance, iteration, ``list()``/``len()``/``bool()``, ``in``, indexing);
* *relation reads*: a ForeignKey/OneToOne attribute read on an instance whose
  relation was not loaded with it;
* *wrapped evaluations*: ``sync_to_async(<evaluation>)``, the query ran before the wrap;
* *thread-insensitive wraps*: ``sync_to_async(<ORM work>, thread_sensitive=False)``;
* *async ORM calls*: ``aget()``, ``asave()`` ... (coroutines, for AG301).

Nested ``def``s and lambdas are other code (they run where they are called, often in
a thread through ``sync_to_async``): the pass does not descend into them; the walker
visits a nested function on its own.
"""

from __future__ import annotations

import ast
from typing import Any

from async_guard.audit.analysis.orm.analyzer import OrmAnalyzer
from async_guard.audit.analysis.orm.values import OrmFacts, defs_in
from async_guard.audit.analysis.questions import Questions
from async_guard.audit.analysis.scope import Scope
from async_guard.audit.analysis.source import SourceFile

__all__ = ["OrmAnalyzer", "OrmFacts", "body_facts"]


def body_facts(sf: SourceFile, index: Questions, scope: Scope, memo: dict[Any, Any]) -> OrmFacts:
    """The ORM facts of the body ``scope`` is in (its function, else the module).

    ``memo`` is the walk's: each body is analyzed once, whichever rules ask.
    """
    function = scope.function
    node = function.node if function is not None else sf.tree
    key = ("orm", id(node))
    found = memo.get(key)
    if found is not None:
        return found  # type: ignore[no-any-return]
    analyzer = OrmAnalyzer(sf, index)
    if function is not None and function.kind == "function":
        # module-level defs are callable from any body of the file (computed once per
        # file, not once per function: that was quadratic on one 50,000-line module)
        module_defs = memo.get("orm-module-defs")
        if module_defs is None:
            module_defs = memo["orm-module-defs"] = defs_in(sf.tree.body)
        analyzer.local_defs.update(module_defs)
    if isinstance(node, (ast.FunctionDef, ast.AsyncFunctionDef)):
        owner = function.parent if function is not None else None
        model = None
        if owner is not None and owner.kind == "class" and index.is_model(owner.qualname):
            model = owner.qualname
        facts = analyzer.function(node, model)
    elif isinstance(node, ast.Module):
        facts = analyzer.function(node)
    else:  # a lambda body is sync code run where the lambda is called
        facts = OrmFacts()
    memo[key] = facts
    return facts
