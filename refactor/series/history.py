"""What a series takes from the tree's git history and tools: the identity that signs
the commits, their fixed date, the subject prefix the driver's history uses, the `Fixes:`
tags, and the recipients from the tree's `scripts/get_maintainer.pl`.
"""

from __future__ import annotations

import os
import re
from collections import Counter
from collections.abc import Sequence
from pathlib import Path

from refactor.classify.findings import Finding
from refactor.infra import proc
from refactor.infra.errors import RefactorError
from refactor.infra.git import git
from refactor.infra.git import ok as git_ok

_PREFIX = re.compile(r"^((?:drm|gpu|accel|fbdev)/[\w.+/-]+):\s+(?:([\w.+-]+):\s)?")


def identity(tree: Path) -> tuple[str, str]:
    name = git(tree, "config", "user.name", check=False).strip()
    email = git(tree, "config", "user.email", check=False).strip()
    if not name or not email:
        raise RefactorError("no git identity for Signed-off-by: set git config user.name and user.email")
    return name, email


def commit_date(tree: Path) -> str:
    epoch = os.environ.get("SOURCE_DATE_EPOCH", "").strip()
    if epoch.isdigit():
        return f"@{epoch} +0000"
    return git(tree, "log", "-1", "--format=%cd", "--date=raw", "HEAD").strip()


def subject_prefix(tree: Path, directory: str, driver: str) -> str:
    """The most common `drm/...:` prefix in the history of `directory`, else one made
    from the path (`drm/foo`, `drm/bridge: foo`)."""
    log = git(tree, "log", "--no-merges", "-n", "300", "--format=%s", "--", directory, check=False)
    firsts: Counter[str] = Counter()
    seconds: dict[str, Counter[str]] = {}
    for line in log.splitlines():
        m = _PREFIX.match(line)
        if m:
            firsts[m.group(1)] += 1
            seconds.setdefault(m.group(1), Counter())[m.group(2) or ""] += 1
    if firsts:
        first, n = firsts.most_common(1)[0]
        second, k = seconds[first].most_common(1)[0]
        return f"{first}: {second}" if second and k * 2 > n else first
    parts = directory.split("/")[3:] if directory.startswith("drivers/gpu/drm/") else [driver]
    if parts and parts[0] in ("bridge", "panel", "tiny", "i2c") and len(parts) < 3:
        return f"drm/{parts[0]}: {driver}"
    return "drm/" + "/".join(parts or [driver])


def fixes_tags(tree: Path, findings: Sequence[Finding], switch: tuple[str, bool] | None) -> tuple[str, ...]:
    """`Fixes:` for the commit that made each problem: the later of the one that added
    the finding's code line and the one that brought in devm_drm_dev_alloc().  A root
    commit (an imported tarball) introduces nothing: when both come from it, or neither
    is found, there is no tag.  `switch` is `introduced(tree, "devm_drm_dev_alloc", the
    module's files)`, looked up once per driver."""
    tags: list[str] = []
    for f in findings:
        try:
            code = (tree / f.file).read_text(errors="replace").splitlines()[f.line - 1].strip()
        except (OSError, IndexError):
            continue
        call = code[: code.index("(") + 1] if "(" in code else code  # arguments may be re-wrapped later
        line = introduced(tree, call if len(call) > 12 else code, [f.file]) if len(code) > 8 else None
        made = [c for c in (line, switch) if c and c[1]]  # found, and not the root commit
        if not line or not made:
            continue
        later = made[0][0]
        if len(made) == 2 and _ancestor(tree, made[0][0], made[1][0]):
            later = made[1][0]
        tag = git(tree, "log", "-1", "--abbrev=12", '--format=%h ("%s")', later).strip()
        if tag and tag not in tags:
            tags.append(tag)
    return tuple(tags)


def _ancestor(tree: Path, a: str, b: str) -> bool:
    return git_ok(tree, "merge-base", "--is-ancestor", a, b)


def introduced(tree: Path, text: str, files: Sequence[str]) -> tuple[str, bool] | None:
    """The first commit that added `text` to `files`, and whether it has a parent."""
    out = git(tree, "log", "--reverse", "--format=%H %P", "-S", text, "--", *files, check=False)
    parts = out.split("\n")[0].split()
    return (parts[0], len(parts) > 1) if parts else None


def maintainers(tree: Path, patch_file: Path) -> tuple[tuple[str, ...], tuple[str, ...]]:
    """(To, Cc) for a patch from the tree's get_maintainer.pl: maintainers to To, reviewers
    and lists to Cc (everything to To when no maintainer is named)."""
    script = tree / "scripts/get_maintainer.pl"
    if not script.is_file() or not (tree / "MAINTAINERS").is_file():
        return (), ()
    res = proc.run(["perl", str(script), "--no-git", "--no-git-fallback", "--no-tree", str(patch_file)],
                   cwd=tree, timeout=300)  # fmt: skip
    to: list[str] = []
    cc: list[str] = []
    for line in res.stdout.splitlines():
        addr, _, role = line.strip().partition(" (")
        if "@" not in addr:
            continue
        (to if role.startswith("maintainer") else cc).append(addr)
    return (tuple(to), tuple(cc)) if to else (tuple(cc), ())
