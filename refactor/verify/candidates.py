"""What verification is given: the generated patches (one stack per driver), or patch
files from elsewhere (`drmm-refactor check`).
"""

from __future__ import annotations

import os
from collections.abc import Sequence
from pathlib import Path

from refactor.generate.run import Generated
from refactor.infra.errors import RefactorError
from refactor.model import tree as model
from refactor.sweep.run import SweepResult
from refactor.verify.checked import Candidate, touched_files


def candidates_of(generated: Generated, result: SweepResult) -> list[Candidate]:
    """The generated patches as candidates: one stack per driver, in generation order."""
    drivers = {d.name: d for d in result.drivers}
    out = []
    for p in generated.patches:
        d = drivers[p.driver]
        out.append(Candidate(p.id, p.driver, p.diff, p.findings, (d.module.directory,), d.module.config,
                             stack=p.driver, family=p.family))  # fmt: skip
    return out


def foreign_candidates(tree: Path, diffs: Sequence[tuple[str, str]]) -> list[Candidate]:
    """Patches from elsewhere (name, diff): the effect stage only checks that they add no
    finding to the modules whose files they touch."""
    out = []
    for name, diff in diffs:
        files = touched_files(diff, deleted=True)
        if not files:
            raise RefactorError(f"{name}: not a unified diff (no +++ b/ lines)")
        paths = tuple(sorted({os.path.dirname(f) for f in files}))
        tm = model.load_tree(tree, paths)
        config = next((d.module.config for d in tm.drivers), "")
        out.append(Candidate(name, "", diff, (), paths if tm.drivers else (), config, stack=name))
    return out
