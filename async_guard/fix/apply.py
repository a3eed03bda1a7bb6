"""``fix_source``: plan every fix of one file, apply them in one pass, check the result.

Pure: text in, text out. The result is re-parsed before it is returned; a fix
that would produce code that does not parse is dropped as a whole (the file is
returned unchanged and every finding is reported as skipped), because a
half-applied set of fixes is worse than none.
"""

from __future__ import annotations

import ast
from collections.abc import Sequence
from dataclasses import dataclass, field

import libcst as cst
import libcst.matchers as m
from libcst.codemod import CodemodContext
from libcst.codemod.visitors import AddImportsVisitor, RemoveImportsVisitor
from libcst.metadata import MetadataWrapper

from async_guard.audit.finding import Finding
from async_guard.fix import fixers
from async_guard.fix.base import Edit, FixContext, Fixer, Unfixable
from async_guard.submodules import import_submodules


@dataclass
class FixResult:
    """The new source, the findings it fixes, and the ones left alone with the reason."""

    source: str
    applied: list[Finding] = field(default_factory=list)
    skipped: list[tuple[Finding, str]] = field(default_factory=list)


_discovered = False


def registry() -> dict[str, Fixer]:
    """Every fixer, by code: the modules under ``async_guard.fix.fixers`` register themselves."""
    global _discovered
    if not _discovered:
        import_submodules(fixers)
        _discovered = True
    return Fixer.registry


def fix_source(source: str, findings: Sequence[Finding]) -> FixResult:
    """Apply the fixes for ``findings`` (all of one file) to ``source``.

    Findings of codes without a fixer are ignored: they are neither applied nor
    skipped. Findings that point at the same node are fixed once and all
    reported as applied.
    """
    fixer_of = registry()
    wanted = sorted(
        {f for f in findings if f.code in fixer_of},
        key=lambda f: (fixer_of[f.code].priority, f),
    )
    if not wanted:
        return FixResult(source)
    # libcst drops a byte-order mark; the file keeps it (and its positions are after it).
    bom = "\ufeff" if source.startswith("\ufeff") else ""
    result = _fix(source.removeprefix(bom), wanted, fixer_of)
    result.source = bom + result.source
    return result


def _fix(source: str, wanted: list[Finding], fixer_of: dict[str, Fixer]) -> FixResult:
    try:
        module = cst.parse_module(source)
    except cst.ParserSyntaxError as error:
        reason = f"the file does not parse ({error.message} at line {error.raw_line})"
        return FixResult(source, skipped=[(f, reason) for f in wanted])

    ctx = FixContext(MetadataWrapper(module), source.splitlines())
    planned: list[tuple[Finding, Edit]] = []
    result = FixResult(source)
    for finding in wanted:
        try:
            edits = fixer_of[finding.code].plan(finding, ctx)
            _check_overlap(ctx, finding, edits, planned)
        except Unfixable as why:
            result.skipped.append((finding, str(why)))
            continue
        except Exception as error:  # a fixer bug must not stop the other fixes
            result.skipped.append(
                (finding, f"internal error in the {finding.code} fixer: {error!r}")
            )
            continue
        result.applied.append(finding)
        planned.extend((finding, edit) for edit in edits if not _same_edit(edit, planned))
    if not planned:
        return result

    try:
        fixed = _with_imports(ctx.module.visit(_Apply([edit for _, edit in planned])), planned)
        ast.parse(fixed.code)
    except Exception as error:  # a fixer bug: never hand back broken code
        problem = (
            f"the fix would not parse ({error.msg})"
            if isinstance(error, SyntaxError)
            else f"a fixer crashed ({error!r})"
        )
        reason = f"internal error: {problem}; nothing changed"
        return FixResult(source, skipped=result.skipped + [(f, reason) for f in result.applied])
    result.source = fixed.code
    return result


def _same_edit(edit: Edit, planned: list[tuple[Finding, Edit]]) -> bool:
    # Two findings on one target (a rule reporting twice) fix it once.
    return any(other.key is edit.key for _, other in planned)


def _check_overlap(
    ctx: FixContext, finding: Finding, edits: list[Edit], planned: list[tuple[Finding, Edit]]
) -> None:
    for edit in edits:
        for other_finding, other in planned:
            if other_finding.code != finding.code and (
                _within(ctx, edit.node, other.locks) or _within(ctx, other.node, edit.locks)
            ):
                raise Unfixable(
                    f"overlaps the {other_finding.code} fix at line {other_finding.line} "
                    "(audit again after --fix: that fix may settle it)"
                )


def _within(ctx: FixContext, node: cst.CSTNode, locks: tuple[cst.CSTNode, ...]) -> bool:
    return any(lock is node or lock in ctx.ancestors(node) for lock in locks)


class _Apply(cst.CSTTransformer):
    """Replaces each planned node, innermost first, so nested fixes compose."""

    def __init__(self, edits: list[Edit]) -> None:
        super().__init__()
        self._edits: dict[cst.CSTNode, list[Edit]] = {}
        for edit in edits:
            self._edits.setdefault(edit.node, []).append(edit)

    def on_leave(  # type: ignore[override]  # a rewrite may change the node's type
        self, original_node: cst.CSTNode, updated_node: cst.CSTNode
    ) -> cst.CSTNode | cst.RemovalSentinel | cst.FlattenSentinel[cst.CSTNode]:
        new: cst.CSTNode | cst.FlattenSentinel[cst.CSTNode] = updated_node
        # Several edits on one block (two loops closed in one body) run last
        # statement first, so each one still finds its own statement.
        for edit in reversed(self._edits.get(original_node, [])):
            # Only AG303 flattens (one def into two), and a def has one such edit.
            assert not isinstance(new, cst.FlattenSentinel)
            new = edit.rewrite(new)
        return new


def _with_imports(module: cst.Module, planned: list[tuple[Finding, Edit]]) -> cst.Module:
    context = CodemodContext()
    adds = sorted({item for _, edit in planned for item in edit.add_imports})
    drops = sorted(
        {item for _, edit in planned for item in edit.drop_imports}, key=lambda d: str(d)
    )
    for module_name, name in adds:
        AddImportsVisitor.add_needed_import(context, module_name, name)
    if adds:
        module = AddImportsVisitor(context).transform_module(module)
    for module_name, obj, asname in drops:
        RemoveImportsVisitor.remove_unused_import(context, module_name, obj, asname)
    if drops:
        module = _RemoveImports(context).transform_module(module)
    return module


class _RemoveImports(RemoveImportsVisitor):
    """libcst's unused-import remover, minus the blank lines a removed first import leaves.

    ``def task():\n    import asyncio\n\n    return ...`` would otherwise become a
    body that opens with an empty line.
    """

    def leave_IndentedBlock(
        self, original_node: cst.IndentedBlock, updated_node: cst.IndentedBlock
    ) -> cst.IndentedBlock:
        first = original_node.body[0]
        if not (
            len(updated_node.body) < len(original_node.body)
            and m.matches(first, m.SimpleStatementLine(body=[m.Import() | m.ImportFrom()]))
            and not updated_node.body[0].deep_equals(first)
        ):
            return updated_node
        head = updated_node.body[0]
        leading: Sequence[cst.EmptyLine] = getattr(head, "leading_lines", ())
        blank = 0
        while blank < len(leading) and leading[blank].comment is None:
            blank += 1
        if not blank:
            return updated_node
        return updated_node.with_changes(
            body=[head.with_changes(leading_lines=leading[blank:]), *updated_node.body[1:]]
        )
