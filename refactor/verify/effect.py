"""The effect stage of verification: a re-sweep of the patched driver in the scratch tree.

The patch's findings must be gone, nothing may be reported that the same sweep did not
report before it, and generating again must not touch its family.
"""

from __future__ import annotations

import hashlib
import json
from collections.abc import Sequence
from pathlib import Path
from typing import Any, Protocol

from refactor import __version__
from refactor.cocci.rules import Rule
from refactor.cocci.spatch import Spatch
from refactor.generate import run as generate
from refactor.infra.cache import cache_dir
from refactor.model import tree as model
from refactor.sweep import run as sweep
from refactor.verify.build import FORMAT as _FORMAT
from refactor.verify.build import ResultCache
from refactor.verify.checked import Candidate, Stage


class Effect(Protocol):
    """The effect stage, as `verify()` calls it (see `effect_stage`)."""

    def baseline(self, work: Path, cand: Candidate) -> frozenset[str]: ...

    def __call__(
        self, work: Path, cand: Candidate, before: frozenset[str]
    ) -> tuple[Stage, frozenset[str]]: ...


class effect_stage:  # noqa: N801 - used like the function it was
    """The effect stage for `verify()`: a sweep of the candidate's paths in the scratch
    tree.  The patch's findings must be gone, nothing may be reported that the same sweep
    did not report before it, and generating again must not touch its family.  Sweeps
    are cached by the swept files' contents and the rules."""

    def __init__(self, spatch: Spatch, rules: Sequence[Rule], use_cache: bool = True) -> None:
        self.spatch = spatch
        self.rules = list(rules)
        self.cache = ResultCache(cache_dir() / "results", enabled=use_cache)
        self.salt = b"\0".join(
            [_FORMAT, b"effect", __version__.encode(), *(r.path.read_bytes() for r in rules)]
        )

    def baseline(self, work: Path, cand: Candidate) -> frozenset[str]:
        return frozenset(f["id"] for f in self._state(work, cand, regenerate=False)["findings"])

    def __call__(self, work: Path, cand: Candidate, before: frozenset[str]) -> tuple[Stage, frozenset[str]]:
        state = self._state(work, cand, regenerate=bool(cand.family))
        mine = state["findings"]
        ids = frozenset(f["id"] for f in mine)
        log = "\n".join(f"{_where(f)} {f['message']}" for f in mine)
        remains = [f for f in mine if f["id"] in cand.findings]
        if remains:
            return Stage("finding-remains", False, f"{_where(remains[0])} still reported", log), ids
        new = [f for f in mine if f["id"] not in before]
        if new:
            return Stage("new-finding", False, f"{_where(new[0])} {new[0]['message']}", log), ids
        if state.get("regenerates"):
            return Stage("finding-remains", False, "running the fix again changes the code", log), ids
        return Stage("effect", True, "", log), ids

    def _state(self, work: Path, cand: Candidate, regenerate: bool) -> dict[str, Any]:
        """The driver's findings in the scratch tree as it is now (and, with `regenerate`,
        whether generating again gives a patch of the candidate's family)."""
        files = sorted(
            str(p.relative_to(work))
            for d in cand.paths
            for p in (work / d).rglob("*")
            if p.is_file() and (p.suffix in (".c", ".h") or p.name in ("Makefile", "Kbuild"))
        )
        family = cand.family if regenerate else ""
        h = hashlib.sha256(self.salt + json.dumps([cand.driver, family, list(cand.paths)]).encode())
        for f in files:
            h.update(f.encode() + b"\0" + (work / f).read_bytes())
        hit = self.cache.get(h.hexdigest())
        if hit is not None:
            return hit
        result = sweep.sweep(model.load_tree(work, cand.paths), self.spatch, self.rules, jobs=1)
        mine = [f for f in result.findings if not cand.driver or f.driver == cand.driver]
        state: dict[str, Any] = {
            "findings": [
                dict(id=f.id, file=f.file, line=f.line, rule=f.rule, message=f.message) for f in mine
            ]
        }
        if family:
            again = generate.generate(result, self.spatch, jobs=1)
            state["regenerates"] = any(p.driver == cand.driver and p.family == family for p in again.patches)
        self.cache.put(h.hexdigest(), state)
        return state


def _where(f: dict[str, Any]) -> str:
    return f"{f['file']}:{f['line']}: [{f['rule']}]"
