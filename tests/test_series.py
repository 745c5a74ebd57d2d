"""`drmm-refactor series` on a git copy of the corpus: the branch and format-patch files,
golden commit messages and cover letter, Fixes: from history, the subject prefix from
history, a v2 reroll whose range-diff shows only the changed driver, --dry-run, and the
user's checkout left as it was.

The corpus is not a buildable kernel tree, so its patches are `not-checked` and enter the
series only with --include-unverified (marked below the --- line).  Set
DRMM_UPDATE_GOLDEN=1 to rewrite the golden files after a deliberate change.
"""

from __future__ import annotations

import json
import os
import re
import shutil
import subprocess
from pathlib import Path

import pytest
from click.testing import CliRunner

from refactor.cli import main
from refactor.series.messages import wrap

REPO = Path(__file__).resolve().parent.parent
GOLDEN = REPO / "corpus" / "golden" / "series"
LUT = "\tbdev->lut = devm_kcalloc(dev, BUFDISP_LUT_SIZE, sizeof(*bdev->lut), GFP_KERNEL);\n"
EPOCH = "946684800"
BRANCH = "drmm-refactor/20260101"


def _git(repo: Path, *args: str) -> str:
    return subprocess.run(["git", *args], cwd=repo, check=True, capture_output=True, text=True).stdout


@pytest.fixture(autouse=True)
def _isolated_git(monkeypatch: pytest.MonkeyPatch, tmp_path: Path) -> None:
    config = tmp_path / "gitconfig"  # the identity of the real-tree test; corpus repos set their own
    config.write_text("[user]\n\tname = Ada Maintainer\n\temail = ada@example.org\n")
    monkeypatch.setenv("GIT_CONFIG_GLOBAL", str(config))
    monkeypatch.setenv("GIT_CONFIG_NOSYSTEM", "1")
    monkeypatch.setenv("SOURCE_DATE_EPOCH", EPOCH)
    monkeypatch.setenv("GIT_AUTHOR_DATE", f"@{EPOCH} +0000")
    monkeypatch.setenv("GIT_COMMITTER_DATE", f"@{EPOCH} +0000")


def _commit(repo: Path, subject: str) -> None:
    _git(repo, "add", "-A")
    _git(repo, "commit", "-q", "-m", subject)


@pytest.fixture
def corpus_repo(tmp_path: Path, corpus_tree: Path) -> Path:
    """The corpus as a git repository: an imported root commit without bufdisp's LUT
    allocation, then a commit that adds it (so it has a Fixes: target)."""
    repo = tmp_path / "linux"
    shutil.copytree(corpus_tree, repo)
    _git(repo, "init", "-q", "-b", "master")
    _git(repo, "config", "user.name", "Ada Maintainer")
    _git(repo, "config", "user.email", "ada@example.org")
    src = repo / "drivers/gpu/drm/bufdisp/bufdisp.c"
    text = src.read_text()
    assert LUT in text
    plain = "\tbdev->lut = kcalloc(BUFDISP_LUT_SIZE, sizeof(*bdev->lut), GFP_KERNEL);\n"
    src.write_text(text.replace(LUT, plain))
    _commit(repo, "Import the tree")
    src.write_text(text)
    _commit(repo, "drm/bufdisp-lcd: Keep the LUT in devres memory")
    return repo


def _state(repo: Path) -> tuple[str, str, str]:
    return (_git(repo, "rev-parse", "HEAD"), _git(repo, "status", "--porcelain"),
            _git(repo, "symbolic-ref", "HEAD"))  # fmt: skip


def _series(repo: Path, out: Path, *extra: str) -> str:
    res = CliRunner().invoke(main, ["series", str(repo), "-o", str(out), "--branch", BRANCH,
                                    "--include-unverified", *extra])  # fmt: skip
    assert res.exit_code == 0, res.output
    return res.output


def _message(patch_text: str) -> str:
    """The mail without its first (hash) line, down to the note below ---."""
    body = patch_text.split("\n", 1)[1]
    head, _, rest = body.partition("\n---\n")
    note = rest.split("\n\n", 1)[0]
    return f"{head}\n---\n{note}\n"


def _check_golden(name: str, text: str) -> None:
    path = GOLDEN / name
    if os.environ.get("DRMM_UPDATE_GOLDEN"):
        path.parent.mkdir(parents=True, exist_ok=True)
        path.write_text(text)
    assert path.is_file(), f"no golden file {path} (DRMM_UPDATE_GOLDEN=1 writes it)"
    assert text == path.read_text(), f"{name} differs from its golden file"


def test_series_of_the_corpus(corpus_repo: Path, tmp_path: Path) -> None:
    before = _state(corpus_repo)
    out = tmp_path / "out"
    _series(corpus_repo, out)
    assert _state(corpus_repo) == before, "the series touched the user's checkout"

    files = sorted(out.glob("*.patch"))
    doc = json.loads((out / "series.json").read_text())
    assert files[0].name == "0000-cover-letter.patch"
    assert [f.name for f in files] == doc["files"]
    assert len(files) == len(doc["patches"]) + 1 > 5
    assert _git(corpus_repo, "rev-parse", BRANCH).strip() == doc["tip"]
    assert doc["base"] == before[0].strip()
    assert re.fullmatch(r"20260101-[a-z0-9-]+-[0-9a-f]{12}", doc["change_id"])
    assert _git(corpus_repo, "worktree", "list").count("\n") == 1, "a worktree was left behind"

    cover = files[0].read_text()
    assert f"base-commit: {doc['base']}\nchange-id: {doc['change_id']}\n" in cover
    _check_golden("0000-cover-letter.patch", cover.split("\n", 1)[1])
    for f in files[1:]:
        text = f.read_text()
        subject = re.search(r"^Subject: (.*(?:\n .*)*)", text, re.M).group(1).replace("\n", "")  # type: ignore[union-attr]
        assert len(subject.split("] ", 1)[1]) <= 75, subject
        message = _message(text)
        for line in message.split("\n\n", 1)[1].splitlines():
            assert len(line) <= 75 or line.startswith(("Signed-off-by:", "Fixes:")) or " " not in line, line
        assert "Signed-off-by: Ada Maintainer <ada@example.org>" in message
        assert "Not verified by drmm-refactor: not-checked:" in message
        _check_golden(f.name, message)

    bufdisp = [f.read_text() for f in files if "bufdisp" in f.name]
    lut = next(t for t in bufdisp if "bdev->lut" in t)
    fixes = _git(corpus_repo, "log", "-1", "--abbrev=12", '--format=%h ("%s")', "HEAD").strip()
    assert f"Fixes: {fixes}\n" in lut
    assert "Subject: [PATCH" in lut and "drm/bufdisp-lcd: " in lut, "the prefix is not the history's"
    others = [f.read_text() for f in files[1:] if "bufdisp" not in f.name]
    assert not any("Fixes:" in t for t in others), "a root commit was named in Fixes:"

    clone = tmp_path / "clone"
    _git(tmp_path, "clone", "-q", str(corpus_repo), str(clone))
    _git(clone, "checkout", "-q", doc["base"])
    _git(clone, "config", "user.name", "Ada Maintainer")
    _git(clone, "config", "user.email", "ada@example.org")
    _git(clone, "am", "-q", *map(str, files[1:]))
    assert _git(clone, "diff", "--stat", doc["tip"]) == "", "git am gave another tree than the branch"


def test_reroll_range_diff_shows_only_the_changed_driver(corpus_repo: Path, tmp_path: Path) -> None:
    out = tmp_path / "out"
    _series(corpus_repo, out)
    v1 = json.loads((out / "series.json").read_text())
    src = corpus_repo / "drivers/gpu/drm/unloaddisp/unloaddisp.c"
    text = src.read_text()  # a context line of the patch that drops the manual cleanup
    mark = "\tdrm_atomic_helper_shutdown(/* v2 */ drm);"
    src.write_text(text.replace("\tdrm_atomic_helper_shutdown(drm);", mark, 1))
    _commit(corpus_repo, "drm/unloaddisp: Mark the shutdown")
    _series(corpus_repo, out, "--reroll")
    v2 = json.loads((out / "series.json").read_text())
    assert v2["version"] == 2 and v2["change_id"] == v1["change_id"]
    cover = (out / "v2-0000-cover-letter.patch").read_text()
    assert "Subject: [PATCH v2 00/" in cover
    rows = re.findall(r"^ *\d+: +[0-9a-f]+ ([=!<>]) +\d+: +[0-9a-f]+ (.*)$", cover, re.M)
    assert len(rows) == len(v1["patches"])
    changed = [subject for mark, subject in rows if mark != "="]
    assert changed and all("unloaddisp" in s for s in changed), rows
    assert "Fixes:" not in (out / next(f for f in v2["files"] if "unloaddisp" in f)).read_text(), (
        "a commit that only changed the arguments was named in Fixes:"
    )
    assert (out / "0000-cover-letter.patch").is_file(), "v1 files were removed"


def test_dry_run_writes_nothing(corpus_repo: Path, tmp_path: Path) -> None:
    before = _state(corpus_repo)
    out = tmp_path / "out"
    output = _series(corpus_repo, out, "--dry-run")
    assert "would write" in output and "0000-cover-letter.patch" in output
    assert not out.exists()
    assert _git(corpus_repo, "branch", "--list", BRANCH) == ""
    assert _state(corpus_repo) == before


def test_existing_branch_and_verified_only(corpus_repo: Path, tmp_path: Path) -> None:
    _git(corpus_repo, "branch", BRANCH)
    res = CliRunner().invoke(main, ["series", str(corpus_repo), "-o", str(tmp_path / "o"), "--branch", BRANCH,
                                    "--include-unverified"])  # fmt: skip
    assert res.exit_code == 2 and f"branch {BRANCH} exists" in res.output
    res = CliRunner().invoke(main, ["series", str(corpus_repo), "-o", str(tmp_path / "o"), "--branch", "x/y"])
    assert res.exit_code == 1 and "no verified patch" in res.output and "not-checked" in res.output
    assert not (tmp_path / "o").exists()


def test_a_tree_without_git_is_refused(corpus_tree: Path, tmp_path: Path) -> None:
    res = CliRunner().invoke(main, ["series", str(corpus_tree), "-o", str(tmp_path / "o")])
    assert res.exit_code == 2
    assert "is not a git repository" in res.output and "git init" in res.output


def test_wrap_keeps_trailers_and_hangs_bullets() -> None:
    text = "Subject\n\n" + "word " * 30 + "\n- " + "item " * 30 + "\n\nSigned-off-by: " + "x" * 80 + "\n"
    out = wrap(text)
    assert all(len(line) <= 75 for line in out.splitlines() if not line.startswith("Signed-off-by"))
    assert "\n  item" in out and out.endswith("x" * 80 + "\n")


# three x86 drivers that keep a patch after the review fixes (logicvc's guards and gud's buffer are
# refusals now: a devm CRTC, memory used only inside drm_dev_enter())
REAL_PATHS = ("drivers/gpu/drm/vboxvideo", "drivers/gpu/drm/vmwgfx", "drivers/gpu/drm/radeon")


@pytest.mark.realtree
def test_series_on_linux_7_2(linux_7_2_git: Path, tmp_path: Path) -> None:
    """The series for three drivers of Linux 7.2: git am onto its base in a fresh clone,
    checkpatch --strict clean, get_maintainer.pl recipients, b4 reads it, and the
    checkout is unchanged."""
    tree = linux_7_2_git
    before = _state(tree)
    branch = f"drmm-refactor/test-{os.getpid()}"
    out = tmp_path / "out"
    args = ["series", str(tree), "-o", str(out), "--branch", branch]
    res = CliRunner().invoke(main, [*args, *(x for p in REAL_PATHS for x in ("--paths", p))])
    try:
        assert res.exit_code == 0, res.output
        assert _state(tree) == before, "the series touched the user's checkout"
        doc = json.loads((out / "series.json").read_text())
        files = [out / f for f in doc["files"]]
        count = len(doc["patches"])
        assert (
            len(files) == count + 1 and count >= 3 and {p["verdict"] for p in doc["patches"]} == {"verified"}
        )

        for f in files[1:]:
            script = str(tree / "scripts/checkpatch.pl")
            argv = ["perl", script, "--strict", "--terse", str(f)]
            check = subprocess.run(argv, cwd=tree, capture_output=True, text=True)
            assert "ERROR" not in check.stdout and "WARNING" not in check.stdout, check.stdout
            text = f.read_text()
            assert re.search(r"^To: .*<.+@.+>", text, re.M), "no maintainer in To:"
            assert "dri-devel@lists.freedesktop.org" in text
        cover = files[0].read_text()
        assert "Cc: " in cover and "dri-devel@lists.freedesktop.org" in cover

        clone = tmp_path / "clone"
        _git(tmp_path, "clone", "-q", "--shared", "--no-checkout", str(tree), str(clone))
        _git(clone, "sparse-checkout", "set", "--no-cone", "MAINTAINERS", *(f"/{p}/" for p in REAL_PATHS))
        _git(clone, "checkout", "-q", doc["base"])
        _git(clone, "config", "user.name", "Ada Maintainer")
        _git(clone, "config", "user.email", "ada@example.org")
        _git(clone, "am", "-q", *map(str, files[1:]))
        assert _git(clone, "diff", "--stat", doc["tip"], "--", *REAL_PATHS) == ""

        mbox = tmp_path / "series.mbox"
        mbox.write_text("".join(f.read_text() for f in files))
        cover_id = re.search(r"^Message-Id: <(.+)>$", cover, re.M).group(1)  # type: ignore[union-attr]
        argv = ["b4", "--offline-mode", "am", "-m", str(mbox), "-o", str(tmp_path / "b4"), cover_id]
        b4 = subprocess.run(argv, cwd=clone, capture_output=True, text=True, timeout=300)
        assert b4.returncode == 0, b4.stderr
        assert f"Total patches: {count}" in b4.stderr + b4.stdout
        assert f"git checkout -b 20000101_ada_example_org {doc['base']}" in b4.stderr, "b4 missed base-commit"
    finally:
        subprocess.run(["git", "branch", "-q", "-D", branch], cwd=tree, capture_output=True)
        refs = _git(tree, "for-each-ref", "--format=%(refname)", "refs/drmm-refactor/").split()
        for ref in refs:
            subprocess.run(["git", "update-ref", "-d", ref], cwd=tree, capture_output=True)


def test_cover_letter_says_what_the_series_families_do() -> None:
    """A series of guard patches alone does not claim to move resources to drmm_ helpers;
    one of several families lists each family's clause once."""
    from refactor.generate.run import Patch
    from refactor.series.commits import Commit
    from refactor.series.messages import cover_text

    def commit(driver: str, family: str, rule: str) -> Commit:
        patch = Patch(f"{driver}-{family}", driver, family, (rule,), ("f1",), (f"{driver}.c",), "")
        return Commit(patch, f"drm/{driver}: Fix", "", "verified", "", (), ())

    guards = cover_text([commit("a", "drm-guards", "unguarded-hw-access")], "1.3", "x86_64", "")
    assert "This series, in 1 driver, guards the hardware access" in guards
    assert "drmm_" not in guards.split("driver  fix")[0].split("\n\n", 1)[1]
    mixed = cover_text(
        [commit("a", "drm-guards", "unguarded-hw-access"), commit("b", "drmm-mutex", "unmanaged-mutex"),
         commit("c", "drmm-mutex", "unmanaged-mutex")], "1.3", "x86_64", "",
    )  # fmt: skip
    assert "In 3 drivers, this series:" in mixed
    assert mixed.count("- initialises the locks") == 1 and mixed.count("- guards the hardware") == 1


def test_every_family_that_writes_patches_has_a_cover_clause() -> None:
    from refactor.families.registry import FAMILIES

    assert [n for n, f in FAMILIES.items() if f.template and not f.summary] == []
