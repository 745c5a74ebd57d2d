"""checkpatch.pl's problems with a file, cached by its contents and the script's."""

from __future__ import annotations

import hashlib
import re
from pathlib import Path

from refactor.infra import proc
from refactor.verify.build import FORMAT as _FORMAT
from refactor.verify.build import ResultCache

_CHECKPATCH = re.compile(
    r"^(?P<file>[^:]+):(?P<line>\d+): (?P<kind>ERROR|WARNING|CHECK):(?:(?P<type>[A-Z_0-9]+):)? (?P<msg>.*)$"
)


# -- checkpatch --------------------------------------------------------------------------------
def checkpatch_file(work: Path, rel: str, cache: ResultCache) -> list[str]:
    """`checkpatch.pl --strict -f` problems of a file as "KIND: message: line text"
    (without line numbers, so the same problem before and after compares equal)."""
    content = (work / rel).read_bytes()
    script = work / "scripts/checkpatch.pl"
    key = hashlib.sha256(
        b"\0".join([_FORMAT, b"checkpatch", script.read_bytes(), rel.encode(), content])
    ).hexdigest()
    hit = cache.get(key)
    if hit is not None:
        return list(hit["problems"])
    res = proc.run(["perl", str(script), "--strict", "--terse", "--no-summary", "--show-types", "-f", rel],
                   cwd=work, timeout=600)  # fmt: skip
    lines = content.decode(errors="replace").splitlines()
    problems = []
    for line in res.stdout.splitlines():
        m = _CHECKPATCH.match(line)
        if m:
            n = int(m.group("line"))
            code = " ".join(lines[n - 1].split()) if 0 < n <= len(lines) else ""
            problems.append(f"{m.group('kind')}: {m.group('msg')}: {code}")
    cache.put(key, {"problems": problems})
    return problems
