"""The rule catalogue: a `.cocci` semantic patch and the metadata of its kernel-style
header (`///` description, `// Confidence:`, `// Options:`, `// Requires:`, `// Keywords:`,
`// Comments:`), read without running spatch.
"""

from __future__ import annotations

import re
import shlex
from collections.abc import Iterable
from dataclasses import dataclass
from pathlib import Path

from refactor.infra.errors import RefactorError


class RuleError(RefactorError):
    """A semantic patch that spatch rejects, or whose header is malformed."""


@dataclass(frozen=True)
class Rule:
    """A semantic patch and the metadata of its kernel-style header."""

    path: Path
    description: str
    confidence: str
    options: tuple[str, ...]
    requires: str
    modes: tuple[str, ...]
    keywords: tuple[str, ...] = ()  # a file containing none of these cannot match
    comments: str = ""  # the `// Comments:` header: why this confidence, known limits

    def may_match(self, source: bytes) -> bool:
        return not self.keywords or any(k.encode() in source for k in self.keywords)

    @property
    def id(self) -> str:
        return self.path.stem


def read_rule(path: Path) -> Rule:
    """Read the header (`///`, `// Confidence:`, `// Options:`, `// Requires:`) of a .cocci."""
    try:
        text = path.read_text()
    except (OSError, UnicodeDecodeError) as exc:
        raise RuleError(f"cannot read rule {path}: {exc}") from None
    desc: list[str] = []
    fields: dict[str, str] = {}
    last = ""  # the field a `//  ` continuation line extends
    for line in text.splitlines():
        if line.startswith("///"):
            desc.append(line[3:].strip())
        elif m := re.match(r"//\s*(Confidence|Options|Requires|Keywords|URL|Comments):\s*(.*)", line):
            last = m.group(1).lower()
            fields[last] = m.group(2).strip()
        elif last == "comments" and line.startswith("//  "):
            fields[last] += " " + line[2:].strip()
        else:
            last = ""
    try:
        options = tuple(shlex.split(fields.get("options", "")))
    except ValueError as exc:
        raise RuleError(f"{path.name}: bad // Options: header: {exc}") from None
    modes = tuple(re.findall(r"^virtual\s+(\w+)", text, re.M))
    return Rule(
        path=path,
        description=" ".join(d for d in desc if d),
        confidence=fields.get("confidence", ""),
        options=options,
        requires=fields.get("requires", ""),
        modes=modes,
        keywords=tuple(k.strip() for k in fields.get("keywords", "").split(",") if k.strip()),
        comments=fields.get("comments", ""),
    )


def rules_in(directory: Path) -> Iterable[Rule]:
    """Every `.cocci` in `directory`, sorted by id."""
    for path in sorted(directory.glob("*.cocci")):
        yield read_rule(path)
