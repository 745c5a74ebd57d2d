"""Verification on a git tree of Linux 7.2: a deliberately broken patch is caught at each
stage, a generated patch is verified, and the user's checkout is left as it was.

The first run prepares an x86_64 allmodconfig build directory in the cache (a few
minutes); later runs reuse it, and compile results are cached by file contents.
"""

from __future__ import annotations

import fcntl
import shutil
import subprocess
import tempfile
from pathlib import Path

import pytest

from refactor.cocci.spatch import Spatch
from refactor.generate.run import Patch, generate
from refactor.generate.tidy import unified
from refactor.model.tree import load_tree
from refactor.sweep.run import load_rules, sweep
from refactor.verify.checked import Candidate
from refactor.verify.effect import effect_stage
from refactor.verify.run import verify

pytestmark = pytest.mark.realtree

# sharp-memory's transfer buffer (the review of 7.2 accepted its drmm_ patch); st7571's
# buffers, used only inside drm_dev_enter() in a driver that unplugs, are no finding now
DIR = "drivers/gpu/drm/tiny"
REL = f"{DIR}/sharp-memory.c"
DRIVER, CONFIG = "sharp-memory", "CONFIG_TINYDRM_SHARP_MEMORY"
ROW = (
    "\tsmd->tx_buffer = devm_kzalloc(dev, smd->tx_buffer_size, GFP_KERNEL);\n"
    "\tif (!smd->tx_buffer)\n\t\treturn -ENOMEM;\n"
)


def _git_state(tree: Path) -> tuple[str, str]:
    head = subprocess.run(["git", "rev-parse", "HEAD"], cwd=tree, capture_output=True, text=True).stdout
    status = subprocess.run(["git", "status", "--porcelain"], cwd=tree, capture_output=True, text=True).stdout
    return head, status


def _real(patch: Patch) -> Candidate:
    """The generated sharp-memory patch as a candidate of its own stack."""
    return Candidate("real", DRIVER, patch.diff, patch.findings, (DIR,), CONFIG, stack="real",
                     family=patch.family)  # fmt: skip


@pytest.fixture(scope="module")
def checked(linux_7_2_git: Path, spatch: Spatch):  # type: ignore[no-untyped-def]
    tree = linux_7_2_git
    state = _git_state(tree)
    rules = load_rules()
    result = sweep(load_tree(tree, [DIR]), spatch, rules)
    gen = generate(result, spatch)
    real = next(p for p in gen.patches if p.driver == DRIVER and p.family == "drmm-alloc")
    base = (tree / REL).read_text()
    assert ROW in base

    def cand(name: str, new: str, findings: tuple[str, ...] = ()) -> Candidate:
        diff = unified(REL, base, new)
        return Candidate(name, DRIVER, diff, findings, (DIR,), CONFIG, stack=name)

    lines = real.diff.splitlines(keepends=True)
    first = next(i for i, x in enumerate(lines) if x.startswith(" ") and x.strip())
    lines[first] = " /* a line the tree does not have */" + lines[first][1:]
    bad_context = "".join(lines)
    cands = [
        _real(real),
        Candidate("no-apply", DRIVER, bad_context, (), (DIR,), stack="no-apply"),
        cand("no-build", base + "\nstatic int drmm_broken = ;\n"),
        cand("warning", base + "\nstatic int drmm_unused_helper(void)\n{\n\treturn 0;\n}\n"),
        cand("checkpatch", base + "\n/* trailing blank follows */ \n"),
        cand("remains", base.replace(ROW, ROW + "\n\t/* the row buffer */\n"), real.findings),
        cand(
            "new-finding",
            base.replace(
                ROW,
                ROW + "\n\tsmd->tx_buffer = devm_kzalloc(dev, smd->pitch, GFP_KERNEL);\n"
                "\tif (!smd->tx_buffer)\n\t\treturn -ENOMEM;\n",
            ),
        ),  # fmt: skip
        # drmm_ memory freed by hand: the semantic stage stops it before the build
        cand(
            "unsafe",
            base.replace(
                ROW,
                ROW.replace("devm_kzalloc(dev,", "drmm_kzalloc(&smd->drm,") + "\tkfree(smd->tx_buffer);\n",
            ),
        ),
    ]
    # tilcdc (ARM) uses __iowmb(), which x86 lacks: its files fail to build on x86_64
    # with or without a patch; without --arch, the next architecture is tried
    arm = "drivers/gpu/drm/tilcdc/tilcdc_crtc.c"
    arm_text = (tree / arm).read_text()
    arm_diff = unified(arm, arm_text, arm_text.replace("\n", "\n/* a comment */\n", 1))
    cands.append(Candidate("own-arch", "tilcdc", arm_diff, (), (), stack="own-arch"))
    checks, hits, seconds = verify(tree, cands, effect=effect_stage(spatch, rules))
    # --arch x86_64: the file does not build there before the patch either
    forced = verify(tree, [Candidate("x86-cannot", "tilcdc", arm_diff, (), (), stack="x86-cannot")],
                    arch="x86_64")[0]  # fmt: skip
    assert _git_state(tree) == state, "verification touched the user's checkout"
    return {c.patch: c for c in checks + forced}


@pytest.mark.parametrize(
    ("name", "verdict", "reason"),
    [
        ("real", "verified", ""),
        ("no-apply", "apply-failed", "patch failed"),
        ("no-build", "build-failed", "sharp-memory.c"),
        ("unsafe", "unsafe", "drmm-freed-by-hand: drivers/gpu/drm/tiny/sharp-memory.c:"),
        ("warning", "new-warning", "drmm_unused_helper"),
        ("checkpatch", "checkpatch-failed", "trailing whitespace"),
        ("remains", "finding-remains", "still reported"),
        ("new-finding", "new-finding", "devm-drm-memory"),
        ("x86-cannot", "not-built", "does not build for x86_64 before the patch either: "),
        ("own-arch", "verified", ""),  # no symbol known: the next architecture that builds it
    ],
)
def test_each_stage_catches_its_fault(checked, name: str, verdict: str, reason: str) -> None:  # type: ignore[no-untyped-def]
    c = checked[name]
    if c.verdict != verdict:
        print(*(s.log[-3000:] for s in c.stages), sep="\n----\n")
    assert c.verdict == verdict, (c.reason, [(s.name, s.ok, s.reason) for s in c.stages])
    assert reason in c.reason


@pytest.fixture(scope="module")
def tree_without_git(linux_7_2_git: Path) -> Path:
    """The 7.2 tree without its .git: a hard-linked copy at a fixed place in the cache (so
    its build directory is prepared once)."""
    top = linux_7_2_git.parent.parent / "linux-7.2-nogit"
    dest = top / linux_7_2_git.name
    top.parent.mkdir(parents=True, exist_ok=True)
    # several test runs may share the cache: one copies (under a lock, into a temporary
    # directory renamed into place), the others wait and reuse it
    with open(top.parent / ".linux-7.2-nogit.lock", "w") as lock:
        fcntl.flock(lock, fcntl.LOCK_EX)
        if not (top / "complete").is_file():
            if top.exists():
                shutil.rmtree(top)  # a copy an earlier run left half done
            work = Path(tempfile.mkdtemp(dir=top.parent, prefix=".linux-7.2-nogit-"))
            (work / dest.name).mkdir()
            for entry in linux_7_2_git.iterdir():
                if entry.name != ".git":
                    subprocess.run(["cp", "-al", str(entry), str(work / dest.name)], check=True)
            (work / "complete").touch()
            work.rename(top)
    return dest


def test_a_tree_without_git_is_verified_in_a_linked_copy(tree_without_git: Path, spatch: Spatch) -> None:
    tree = tree_without_git
    target = tree / REL
    stat = target.stat()
    result = sweep(load_tree(tree, [DIR]), spatch, load_rules())
    gen = generate(result, spatch)
    real = next(p for p in gen.patches if p.driver == DRIVER and p.family == "drmm-alloc")
    base = target.read_text()
    broken = unified(REL, base, base + "\nstatic int drmm_broken = ;\n")
    cands = [
        _real(real),
        Candidate("broken", DRIVER, broken, (), (DIR,), CONFIG, stack="broken"),
    ]
    checks = {c.patch: c for c in verify(tree, cands, effect=effect_stage(spatch, load_rules()))[0]}
    assert checks["real"].verdict == "verified", [(s.name, s.reason) for s in checks["real"].stages]
    assert checks["broken"].verdict == "build-failed"
    assert checks["broken"].stages[0].log == "" or "patch" not in checks["broken"].stages[0].reason
    after = target.stat()
    assert (after.st_ino, after.st_mtime_ns, after.st_nlink) == (stat.st_ino, stat.st_mtime_ns, stat.st_nlink)
    assert target.read_text() == base
