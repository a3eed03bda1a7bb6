"""Per-file cache in ``.async_guard_cache/``: facts and findings of one file version.

Keyed by the file's path and content hash, the tool version and the
configuration fingerprint; findings are reused only while every question the
file's walk asked the project index still has the same answer (they may depend
on other files). Writes are atomic (temp
file + ``os.replace``); an unreadable or corrupted entry is ignored and rebuilt.
"""

from __future__ import annotations

import functools
import pickle
from dataclasses import dataclass
from pathlib import Path

from async_guard.audit.analysis.facts import FileFacts
from async_guard.audit.atomic import atomic_write
from async_guard.audit.finding import Finding
from async_guard.audit.results import AuditResult
from async_guard.audit.speed.journal import Journal


@dataclass(frozen=True)
class CacheEntry:
    facts: FileFacts | None
    findings: tuple[Finding, ...] = ()
    run_contexts: tuple[str, ...] = ()
    #: The questions the file's walk asked the index (its findings stand while the
    #: answers do: see ``speed.journal``).
    journal: Journal | None = None
    problem: tuple[int, str] | None = None


def sha256(data: bytes) -> str:
    import hashlib  # here: only a run with a cache hashes (the import costs a cold run)

    return hashlib.sha256(data).hexdigest()


@functools.lru_cache(maxsize=1)
def code_fingerprint() -> str:
    """Digest of the audit's own code: a changed rule or fact layout never reads old entries."""
    import hashlib  # here: a run without a cache need not load it

    digest = hashlib.sha256()
    for path in sorted(Path(__file__).parents[1].rglob("*.py")):
        digest.update(path.read_bytes())
    return digest.hexdigest()[:12]


class Cache:
    def __init__(self, root: Path, version: str, fingerprint: str) -> None:
        self.folder = root / f"v{version}-{code_fingerprint()}-{fingerprint}"

    def _path(self, key: str) -> Path:
        return self.folder / key[:2] / f"{key}.pickle"

    def load(self, key: str) -> CacheEntry | None:
        try:
            with self._path(key).open("rb") as handle:
                entry = pickle.load(handle)
        except FileNotFoundError:
            return None
        except Exception:  # corrupted, truncated, or from another version: rebuild
            return None
        return entry if isinstance(entry, CacheEntry) else None

    def load_run(self, key: str) -> AuditResult | None:
        """The whole result of an earlier run over exactly the same files, if kept."""
        try:
            with (self.folder / "runs" / f"{key}.pickle").open("rb") as handle:
                result = pickle.load(handle)
        except Exception:  # missing, corrupted or stale: run again
            return None
        return result if isinstance(result, AuditResult) else None

    def store_run(self, result: AuditResult, *keys: str) -> None:
        """Keep ``result`` under each of ``keys`` (and no earlier run)."""
        folder = self.folder / "runs"
        try:
            folder.mkdir(parents=True, exist_ok=True)
            wanted = {f"{key}.pickle" for key in keys}
            for old in folder.glob("*.pickle"):  # only the latest run is worth keeping
                if old.name not in wanted:
                    old.unlink(missing_ok=True)
            data = pickle.dumps(result, pickle.HIGHEST_PROTOCOL)
            for key in keys:
                atomic_write(folder / f"{key}.pickle", data)
        except OSError:
            pass

    def store(self, key: str, entry: CacheEntry) -> None:
        target = self._path(key)
        try:
            target.parent.mkdir(parents=True, exist_ok=True)
            atomic_write(target, pickle.dumps(entry, protocol=pickle.HIGHEST_PROTOCOL))
        except OSError:
            pass  # a read-only tree still gets audited, just without a cache
