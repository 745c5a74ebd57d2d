"""The guest kernel: a small x86_64 config, built in a directory cached per tree and config.

The tree is never touched: prove checks its commit out in a git worktree of its own under
`~/.cache/drmm-refactor/prove/<tree>-<commit>/src`, and builds with `O=` into
`build-<config digest>` beside it.  A patch is applied to that worktree and reverted with
`git reset --hard` afterwards; both only change the patched files' mtimes, so make rebuilds
those and relinks, not the kernel.

The config is `allnoconfig`, then the tree's `kvm_guest.config`, then virtme-ng's own
fragment (`virtme-configkernel --defconfig --dry-run`: what its guest init needs), then
`guest.config` (the drivers built in, KASAN, lockdep, debugobjects; much left out to keep
the build small).  The digest covers all three texts, so a change of any is a new build dir.
"""

from __future__ import annotations

import contextlib
import fcntl
import hashlib
import os
import shutil
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path

from refactor.infra import proc
from refactor.infra.errors import RefactorError, ToolError
from refactor.prove import runner

GUEST_CONFIG = Path(__file__).with_name("guest.config")
BASE = ("allnoconfig", "kvm_guest.config")
BUILD_TIMEOUT = 3 * 3600  # a first build on two shared cores


@dataclass(frozen=True)
class Workspace:
    """Where a tree's guest kernel is built: the worktree, the build dir, the config."""

    tree: Path
    commit: str
    source: Path
    build: Path
    fragment: str  # virtme-ng's fragment and guest.config, appended to the base config

    @property
    def image(self) -> Path:
        return self.build / "arch/x86/boot/bzImage"


@dataclass(frozen=True)
class Built:
    """One make run in a workspace."""

    image: Path
    seconds: float
    ok: bool
    error: str  # the first error lines when not ok
    objects: int  # how many files make compiled (CC lines): 0 on an up-to-date tree


def cache_root() -> Path:
    return Path(os.environ.get("XDG_CACHE_HOME", Path.home() / ".cache")) / "drmm-refactor" / "prove"


def virtme_fragment() -> str:
    """virtme-ng's own config fragment for an x86_64 guest (its `--dry-run` output)."""
    exe = runner.venv_tool("virtme-configkernel")
    if exe is None:
        raise RefactorError("virtme-configkernel not found: install the prove extra (pip install "
                            "'drmm-refactor[prove]', or ./run setup)")  # fmt: skip
    done = proc.run([exe, "--defconfig", "--dry-run", "--arch", "x86_64"], cwd=cache_root(), timeout=60)
    if not done.ok:
        raise ToolError(f"virtme-configkernel --dry-run failed: {done.stderr.strip()[:200]}")
    return done.stdout


def workspace(tree: Path) -> Workspace:
    """The workspace of `tree` (created if missing, reset to the tree's HEAD if present)."""
    if not (tree / ".git").exists():
        raise RefactorError(f"{tree} is not a git repository: prove builds in a worktree of it "
                            "(python3 corpus/fetch_tree.py VERSION --git)")  # fmt: skip
    head = proc.run(["git", "rev-parse", "HEAD"], cwd=tree, timeout=60)
    if not head.ok:
        raise RefactorError(f"cannot read the HEAD commit of {tree}: {head.stderr.strip()[:200]}")
    commit = head.stdout.strip()
    cache_root().mkdir(parents=True, exist_ok=True)
    fragment = virtme_fragment() + GUEST_CONFIG.read_text()
    digest = hashlib.sha256((" ".join(BASE) + "\n" + fragment).encode()).hexdigest()[:10]
    base = cache_root() / f"{tree.resolve().name}-{commit[:10]}"
    ws = Workspace(tree, commit, base / "src", base / f"build-{digest}", fragment)
    base.mkdir(parents=True, exist_ok=True)
    if not (ws.source / ".git").exists():
        add_worktree(tree, ws.source, commit)
    reset(ws)
    return ws


def add_worktree(tree: Path, source: Path, commit: str) -> None:
    """`git worktree add` of `commit` at `source`, after clearing what an interrupted add
    leaves behind (git locks a worktree while it adds it: a run stopped there leaves a
    'missing but locked' entry, and a partial checkout without its .git file)."""
    if source.exists():
        shutil.rmtree(source)
    proc.run(["git", "worktree", "unlock", str(source)], cwd=tree, timeout=60)  # fails when not locked
    proc.run(["git", "worktree", "prune"], cwd=tree, timeout=60)
    done = proc.run(["git", "worktree", "add", "--detach", str(source), commit], cwd=tree, timeout=600)
    if not done.ok:
        raise ToolError(f"git worktree add failed: {done.stderr.strip()[:200]}")


def reset(ws: Workspace) -> None:
    """Back to the tree's commit: undo an applied patch (only its files change)."""
    for argv in (["git", "reset", "-q", "--hard", ws.commit], ["git", "clean", "-fdq"]):
        done = proc.run(argv, cwd=ws.source, timeout=600)
        if not done.ok:
            raise ToolError(f"{' '.join(argv)} in {ws.source} failed: {done.stderr.strip()[:200]}")


def apply(ws: Workspace, diff: str) -> str | None:
    """Apply a -p1 diff to the worktree; None when it applied, else git's reason."""
    done = proc.run(["git", "apply", "-p1", "-"], cwd=ws.source, stdin=diff, timeout=120)
    return None if done.ok else (done.stderr.strip().splitlines() or ["git apply failed"])[0]


def _make(ws: Workspace, *args: str, timeout: float = 600) -> proc.Completed:
    return proc.run(["nice", "-n", "10", "make", f"O={ws.build}", *args], cwd=ws.source, timeout=timeout)


def configure(ws: Workspace) -> None:
    """Write the build dir's .config, once."""
    config = ws.build / ".config"
    if config.exists():
        return
    ws.build.mkdir(parents=True, exist_ok=True)
    for target in BASE:
        done = _make(ws, target)
        if not done.ok:
            raise ToolError(f"make {target} failed: {done.stderr.strip()[-300:]}")
    with config.open("a") as f:
        f.write("\n" + ws.fragment)
    done = _make(ws, "olddefconfig")
    if not done.ok:
        config.unlink()
        raise ToolError(f"make olddefconfig failed: {done.stderr.strip()[-300:]}")


@contextlib.contextmanager
def _build_lock() -> Iterator[None]:
    """One kernel build at a time on this machine (they share two cores)."""
    with open(cache_root() / "build.lock", "w") as f:
        fcntl.flock(f, fcntl.LOCK_EX)
        try:
            yield
        finally:
            fcntl.flock(f, fcntl.LOCK_UN)


def build(ws: Workspace, jobs: int = 2) -> Built:
    """Configure if needed and make the kernel; incremental after the first build."""
    with _build_lock():
        configure(ws)
        done = _make(ws, f"-j{jobs}", timeout=BUILD_TIMEOUT)
    objects = sum(1 for line in done.stdout.splitlines() if line.lstrip().startswith("CC "))
    error = ""
    if not done.ok:
        lines = [ln for ln in (done.stderr + done.stdout).splitlines() if "error" in ln.lower()]
        error = "\n".join(lines[:5]) or f"make exited {done.returncode}"
    return Built(ws.image, done.seconds, done.ok and ws.image.exists(), error, objects)
