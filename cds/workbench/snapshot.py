"""Rule files taken once as bytes, so every worker of a back-test evaluates exactly the same rules.

An informaticist may keep editing the rules while a long back-test runs, and Dask workers on other
machines cannot see this one's files: both are answered by shipping the files' contents with the work
and loading them in each worker, once per process.
"""

from __future__ import annotations

import hashlib
import tempfile
from dataclasses import dataclass
from pathlib import Path

from cds.evaluation import Evaluator
from cds.rulebook import load_rulebook
from cds.rulebook.diff import RulesDiff, diff_rulebooks
from cds.rulebook.loader import DEFAULT_RULES_DIR


@dataclass(frozen=True, slots=True)
class RulesSnapshot:
    name: str
    """The directory's own name, so a problem found in a worker names the file as its author knows it."""
    files: tuple[tuple[str, bytes], ...]
    digest: str

    @classmethod
    def take(cls, directory: Path | None) -> RulesSnapshot:
        root = (directory or DEFAULT_RULES_DIR).resolve()
        files = tuple(
            (path.relative_to(root).as_posix(), path.read_bytes())
            for path in sorted(root.rglob("*.yaml"))
            if path.is_file()
        )
        digest = hashlib.sha256()
        for name, content in files:
            digest.update(name.encode() + b"\0" + content + b"\0")
        return cls(name=root.name, files=files, digest=digest.hexdigest())

    def write(self, parent: Path) -> Path:
        root = parent / self.name
        for name, content in self.files:
            path = root / name
            path.parent.mkdir(parents=True, exist_ok=True)
            path.write_bytes(content)
        return root


_loaded: dict[str, tuple[Evaluator, tempfile.TemporaryDirectory[str]]] = {}


def evaluator_for(snapshot: RulesSnapshot) -> Evaluator:
    """The evaluator of a snapshot, built once per process (an engine costs milliseconds to compile).

    Raises RulebookError when the files do not load.
    """
    if snapshot.digest not in _loaded:
        folder = tempfile.TemporaryDirectory(prefix="cds-rules-")
        evaluator = Evaluator(load_rulebook(snapshot.write(Path(folder.name))))
        _loaded[snapshot.digest] = (evaluator, folder)
    return _loaded[snapshot.digest][0]


_diffs: dict[tuple[str, str], RulesDiff] = {}


def rules_diff(old: RulesSnapshot, new: RulesSnapshot) -> RulesDiff:
    """What differs from `old` to `new`, worked out once per process and pair."""
    key = (old.digest, new.digest)
    if key not in _diffs:
        _diffs[key] = diff_rulebooks(evaluator_for(old).rulebook, evaluator_for(new).rulebook)
    return _diffs[key]
