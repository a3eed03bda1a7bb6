"""Fast traversals of a syntax tree: a node's children, and every node under one.

``ast.iter_child_nodes`` and ``ast.walk`` are generators in pure Python that also
yield the expression contexts (``Load``, ``Store``) and operators, which no part
of the audit asks for: these lists cost a fraction, and every traversal of the
audit uses them.
"""

from __future__ import annotations

import ast

#: Fields that hold no statement or expression: names, flags, and the expression
#: contexts and operators (childless nodes nothing here asks for).
_LEAF_FIELDS = frozenset(
    {"ctx", "op", "ops", "id", "attr", "arg", "module", "level", "kind", "conversion",
     "type_comment", "is_async", "lineno"}
)  # fmt: skip
_CHILD_FIELDS: dict[type, tuple[str, ...]] = {}
DEFINITIONS = (ast.FunctionDef, ast.AsyncFunctionDef, ast.ClassDef, ast.Lambda)


def child_fields(kind: type) -> tuple[str, ...]:
    """The fields of a node class that may hold child nodes."""
    fields = _CHILD_FIELDS.get(kind)
    if fields is None:
        names: tuple[str, ...] = () if kind is ast.Constant else getattr(kind, "_fields", ())
        fields = _CHILD_FIELDS[kind] = tuple(f for f in names if f not in _LEAF_FIELDS)
    return fields


def children(node: ast.AST) -> list[ast.AST]:
    """``ast.iter_child_nodes(node)``, without contexts and operators."""
    out: list[ast.AST] = []
    for name in child_fields(type(node)):
        value = getattr(node, name, None)
        if type(value) is list:
            out.extend(item for item in value if isinstance(item, ast.AST))
        elif isinstance(value, ast.AST):
            out.append(value)
    return out


def descendants(node: ast.AST, *, into_definitions: bool = True) -> list[ast.AST]:
    """``node`` and every node under it (``ast.walk``, without contexts and operators).

    Without ``into_definitions``, the nested ``def``s, classes and lambdas and what
    they hold are left out (``node`` itself is always in)."""
    out: list[ast.AST] = [node]
    stack = children(node)
    while stack:
        child = stack.pop()
        if not into_definitions and isinstance(child, DEFINITIONS):
            continue
        out.append(child)
        stack.extend(children(child))
    return out
