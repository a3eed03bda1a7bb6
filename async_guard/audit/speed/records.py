"""One file of a run, and where it stands in it."""

from __future__ import annotations

from dataclasses import dataclass, field

from async_guard.audit.analysis.facts import FileFacts
from async_guard.audit.analysis.source import module_name
from async_guard.audit.finding import Finding
from async_guard.audit.speed.cache import CacheEntry
from async_guard.audit.speed.journal import Journal, Miss


@dataclass
class FileRecord:
    """A file as the run knows it. Its life, in order:

    1. *read* by a worker: ``key`` (its content hash with a cache, else its path),
       ``module``, ``triggered`` and ``full`` (see below), ``renames``
       and ``defs``; ``text`` once ``fetched`` (the text of a file without a trigger
       stays with the worker that read it until the run asks for it);
    2. *known*: ``facts`` from the cache (``entry``) or from a parse (``parsed``; with
       ``kept``, its tree waits in a worker for the walk). A file that does not parse
       gets ``findings = []`` and an AG000 finding instead. The skip may make a file
       ``full`` once its facts show it calls into a full one;
    3. *walked* (full files): ``findings``, ``run_contexts``, the ``journal`` of its
       questions and the ``walk_misses`` of their answers, on an index of ``walked_with``
       files' facts; ``walk_failed`` when a rule broke on it (never cached);
    4. or *skipped*: never read for facts (``facts`` and ``findings`` stay None).

    A file read for its facts only (linked to a full file) ends with ``findings = []``.
    """

    path: str
    display: str
    text: str
    key: str
    module: str | None = None
    #: Another name its module is imported by (see ``source.module_names``).
    alias: str = ""
    #: Named by the run's paths: its findings are reported. The other files of the
    #: project are read only for what the named ones need to know.
    target: bool = True
    #: Its text holds a trigger: every rule may report in it.
    triggered: bool = False
    #: It is walked: a target that is triggered, or that the skip made full (it calls
    #: into a triggered file; only the rules that report at such calls walk it).
    full: bool = False
    renames: list[tuple[str, str]] = field(default_factory=list)
    defs: int = 0
    fetched: bool = True
    facts: FileFacts | None = None
    entry: CacheEntry | None = None
    looked_up: bool = False  # in the cache, for ``entry``
    parsed: bool = False
    kept: bool = False
    findings: list[Finding] | None = None
    run_contexts: list[str] = field(default_factory=list)
    journal: Journal | None = None
    walk_misses: set[Miss] | None = None
    walked_with: int = -1
    walk_failed: bool = False

    def module_name(self) -> str:
        """The dotted module name its path gives (looked up on disk once)."""
        if self.module is None:
            self.module = module_name(self.display)[0]
        return self.module
