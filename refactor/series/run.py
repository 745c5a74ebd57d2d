"""Series: the verified patches as git series a maintainer sends to dri-devel.

One commit per driver and fix family on a new branch, made in a separate git worktree
(the user's checkout, index and current branch are never touched), then `git
format-patch` files with a cover letter:

- subjects take the prefix the driver's own history uses (`git log` of its directory),
  or one made from its path;
- messages are rendered from the package's jinja2 templates and wrapped at 75 columns;
- `Signed-off-by:` is the git identity; `Fixes:` names the commit that brought the
  devm resource and the devm-managed drm_device together, when history shows it;
- `To:`/`Cc:` come from the tree's `scripts/get_maintainer.pl` per patch, the cover
  letter gets their union; the cover letter carries `base-commit:` and a b4 `change-id:`.

Commits get fixed dates (SOURCE_DATE_EPOCH, else the base commit's), so the same inputs
give the same files.  `series.json` in the output directory records what was written;
`--reroll` reads it to make the next version with a range-diff against the previous.
"""

from __future__ import annotations

import datetime
import email.utils
import hashlib
import json
import re
import tempfile
from collections.abc import Sequence
from pathlib import Path
from typing import Any

from refactor import __version__
from refactor.families.registry import FAMILIES
from refactor.generate.run import Generated, Patch
from refactor.infra import output
from refactor.infra.errors import RefactorError
from refactor.infra.git import git, worktree
from refactor.infra.git import ok as git_ok
from refactor.infra.git import run as git_run
from refactor.series.commits import Commit, Options, Series, Written
from refactor.series.history import commit_date, fixes_tags, identity, introduced, maintainers, subject_prefix
from refactor.series.messages import cover_subject, cover_text, message, wrap
from refactor.sweep.run import SweepResult
from refactor.verify.checked import Checked, touched_files

SPLITS = ("one", "per-driver", "per-rule")


# -- planning -----------------------------------------------------------------------------
def plan(tree: Path, result: SweepResult, gen: Generated, checks: Sequence[Checked], opts: Options,
         spatch: str) -> tuple[list[Series], list[tuple[Patch, str]]]:  # fmt: skip
    """The series to write, and the patches left out with why."""
    if opts.split not in SPLITS:
        raise RefactorError(f"unknown --split {opts.split}: use one of {', '.join(SPLITS)}")
    name, email = identity(tree)
    check_of = {c.patch: c for c in checks}
    found = {f.id: f for f in result.findings}
    drivers = {d.name: d for d in result.drivers}
    left_out: list[tuple[Patch, str]] = []
    blocked: dict[str, str] = {}  # driver -> the patch its later ones stack on
    commits: list[Commit] = []
    prefixes: dict[str, str] = {}
    switches: dict[str, tuple[str, bool] | None] = {}
    for p in sorted(gen.patches, key=lambda x: (x.driver, gen.patches.index(x))):
        c = check_of.get(p.id)
        verdict, reason = (c.verdict, c.reason) if c else ("not-checked", "not verified")
        if p.driver in blocked:
            left_out.append((p, f"applies on top of {blocked[p.driver]}, which is left out"))
            continue
        if verdict != "verified" and not opts.include_unverified:
            left_out.append((p, f"{verdict}: {reason}"))
            blocked[p.driver] = p.id
            continue
        d = drivers[p.driver]
        if p.driver not in prefixes:
            prefixes[p.driver] = subject_prefix(tree, d.module.directory, p.driver)
        fs = [found[i] for i in p.findings if i in found]
        if p.driver not in switches:  # a pickaxe search of the module's history: once per driver
            switches[p.driver] = introduced(tree, "devm_drm_dev_alloc", d.module.files)
        fixes = fixes_tags(tree, fs, switches[p.driver])
        msg = message(p, fs, prefixes[p.driver], d, c, fixes, f"{name} <{email}>", opts.arch)
        proof = c.proof.text() if c is not None and c.proof is not None else ""
        commits.append(Commit(p, msg.split("\n", 1)[0], msg, verdict, reason, (), (),
                              c.arch if c is not None else "", proof))  # fmt: skip
    groups: dict[str, list[Commit]] = {}
    for commit in commits:
        key = {"one": "", "per-driver": commit.patch.driver, "per-rule": commit.patch.family}[opts.split]
        groups.setdefault(key, []).append(commit)
    if opts.split == "per-rule":
        order = list(FAMILIES)
        groups = dict(sorted(groups.items(), key=lambda kv: order.index(kv[0]) if kv[0] in order else 99))
    base = git(tree, "rev-parse", "HEAD").strip()
    out: list[Series] = []
    for key, group in groups.items():
        out_dir = opts.out / key if len(groups) > 1 else opts.out
        branch = f"{opts.branch}-{key}" if len(groups) > 1 else opts.branch
        previous = _previous(out_dir) if opts.reroll else None
        version = previous["version"] + 1 if previous else opts.version
        change_id = previous["change_id"] if previous else _change_id(branch, base)
        prereq = f"{out[-1].change_id}:v{out[-1].version}" if opts.split == "per-rule" and out else ""
        cover = cover_text(group, spatch, opts.arch, out[-1].subject if prereq else "")
        out.append(Series(key, branch, version, base, change_id, cover_subject(group, key, opts.split), cover,
                          tuple(group), out_dir, previous, prereq))  # fmt: skip
    return out, left_out


def _change_id(branch: str, base: str) -> str:
    """b4's form, DATE-SLUG-HEX12, made from the branch and base so that it is stable."""
    date = re.search(r"(\d{4})-?(\d{2})-?(\d{2})", branch)
    day = "".join(date.groups()) if date else "00000000"
    slug = re.sub(r"[^a-z0-9]+", "-", branch.lower().rsplit("/", 1)[-1]).strip("-") or "drmm"
    slug = re.sub(r"^\d{4}-?\d{2}-?\d{2}-?", "", slug) or "drmm-refactor"
    return f"{day}-{slug}-{hashlib.sha256(f'{branch} {base}'.encode()).hexdigest()[:12]}"


def _previous(out_dir: Path) -> dict[str, Any]:
    path = out_dir / "series.json"
    try:
        doc = json.loads(path.read_text())
        if not isinstance(doc.get("version"), int) or not doc.get("tip") or not doc.get("change_id"):
            raise ValueError("missing version, tip or change_id")
    except (OSError, ValueError) as exc:
        raise RefactorError(f"--reroll needs the previous series: cannot read {path}: {exc}") from None
    return dict(doc)


# -- writing ------------------------------------------------------------------------------
# about 65 lines: the order of the steps is the point (commit and format everything in a
# scratch worktree, check for clashes, place the files, only then move the branches)
def write(tree: Path, series: Sequence[Series], opts: Options) -> list[Written]:
    """Commit, format and (unless dry-run) put each series in place: files in its output
    directory, the branch at its tip.  Everything is made in temporary places first."""
    for s in series:
        _check_branch(tree, s, opts)
    written: list[Written] = []
    base = series[0].base if series else ""
    date = commit_date(tree)
    name, email = identity(tree)
    env = {"GIT_AUTHOR_NAME": name, "GIT_AUTHOR_EMAIL": email, "GIT_COMMITTER_NAME": name,
           "GIT_COMMITTER_EMAIL": email, "GIT_AUTHOR_DATE": date, "GIT_COMMITTER_DATE": date}  # fmt: skip
    with tempfile.TemporaryDirectory(prefix="drmm-series-") as tmp:
        work = Path(tmp) / "tree"
        # a worktree with only the files the patches touch (and get_maintainer.pl's):
        # checking out and removing a whole kernel tree costs minutes
        needed = {"MAINTAINERS", "scripts/get_maintainer.pl"}
        needed |= {f for s in series for c in s.commits for f in touched_files(c.patch.diff, deleted=True)}
        with worktree(tree, work, base, checkout=False):
            for s in series:  # a per-rule series continues from the one before
                if not s.prerequisite:
                    git(work, "reset", "--quiet", s.base)
                    present = git(work, "ls-tree", "-r", "--name-only", s.base, "--", *sorted(needed)).split()
                    if present:
                        git(work, "checkout", s.base, "--", *present)
                for c in s.commits:
                    res = git_run(work, "apply", "--index", "-p1", "-", stdin=c.patch.diff, timeout=120)
                    if not res.ok:
                        raise RefactorError(f"patch {c.patch.id} ({c.patch.driver}) does not apply: "
                                            f"{res.stderr.strip().splitlines()[:1]}")  # fmt: skip
                    git(work, "commit", "--quiet", "--no-verify", "-F", "-", env=env, stdin=c.message)
                tip = git(work, "rev-parse", "HEAD").strip()
                start = s.base if not s.prerequisite else written[-1].tip
                staging = Path(tmp) / f"out-{len(written)}"
                files = _format(work, s, start, tip, staging, date)
                written.append(Written(s, tuple(files), start, tip))
        if opts.dry_run:
            return [
                Written(w.series, tuple(w.series.out / f.name for f in w.files), w.start, w.tip)
                for w in written
            ]
        for w in written:  # nothing is placed when any file would replace one not asked to
            clash = [f.name for f in w.files if (w.series.out / f.name).exists()]
            if clash and not opts.force:
                raise RefactorError(f"{w.series.out} already has {clash[0]}: pass --force to replace it, or "
                                    "another -o")  # fmt: skip
        final: list[Written] = []
        placed: list[Path] = []
        try:
            for w in written:
                w.series.out.mkdir(parents=True, exist_ok=True)
                for f in w.files:  # each file appears whole or not at all
                    output.write_text(f.read_text(), w.series.out / f.name)
                    placed.append(w.series.out / f.name)
                _record(w, [w.series.out / f.name for f in w.files])
                final.append(Written(w.series, tuple(w.series.out / f.name for f in w.files), w.start, w.tip))
        except BaseException:  # interrupted or failed: no half-written series is left
            for f in placed:
                f.unlink(missing_ok=True)
            raise
        for w in final:  # the branches last, once every file is in place
            git(tree, "update-ref", f"refs/drmm-refactor/{w.series.change_id}/v{w.series.version}", w.tip)
            git(tree, "branch", "--force", "--quiet", w.series.branch, w.tip)
    return final


def _check_branch(tree: Path, s: Series, opts: Options) -> None:
    if not git_ok(tree, "check-ref-format", "--branch", s.branch, timeout=60):
        raise RefactorError(f"{s.branch} is not a valid branch name")
    have = git(tree, "rev-parse", "--verify", "--quiet", f"refs/heads/{s.branch}", check=False).strip()
    if not have:
        return
    if opts.force:  # only a branch this tool made (its tip is one of the series it recorded)
        ours = git(tree, "for-each-ref", "--format=%(objectname)", "refs/drmm-refactor/", check=False).split()
        if have not in ours:
            raise RefactorError(f"branch {s.branch} was not made by drmm-refactor: --force replaces only "
                                "series branches; choose another --branch")  # fmt: skip
        return
    if s.previous and have == s.previous["tip"]:
        return
    if s.previous:
        raise RefactorError(f"branch {s.branch} has moved since version {s.previous['version']} was written: "
                            "pass --force to replace it")  # fmt: skip
    raise RefactorError(
        f"branch {s.branch} exists: pass --branch NAME, --reroll for a new version, or --force"
    )


def _format(work: Path, s: Series, start: str, tip: str, staging: Path, date: str) -> list[Path]:
    """git format-patch, then recipients, the cover letter's text and change-id, and the
    mark on patches that did not pass verification."""
    numbered = "--numbered" if len(s.commits) > 1 else "--no-numbered"
    args = ["format-patch", "--quiet", "-o", str(staging), f"--base={s.base}", numbered,
            f"--signature=drmm-refactor {__version__}"]  # fmt: skip
    if len(s.commits) > 1:
        args.append("--cover-letter")
    if s.version > 1:
        args.append(f"--reroll-count={s.version}")
    if s.previous:
        args.append(f"--range-diff={s.previous['start']}..{s.previous['tip']}")
    git(work, *args, f"{start}..{tip}")
    files = sorted(staging.glob("*.patch"))
    everyone_to: list[str] = []
    everyone_cc: list[str] = []
    patches = [f for f in files if "0000-cover-letter" not in f.name]
    cover_id = _message_id(s, 0)
    for k, (f, c) in enumerate(zip(patches, s.commits, strict=True), 1):
        to, cc = maintainers(work, f)
        everyone_to += [a for a in to if a not in everyone_to]
        everyone_cc += [a for a in cc if a not in everyone_cc]
        thread = {"Message-Id": _message_id(s, k)}
        if len(patches) > 1:
            thread.update({"In-Reply-To": cover_id, "References": cover_id})
        text = _headers(f.read_text(), to, cc, thread)
        if c.verdict != "verified":
            note = wrap(f"Not verified by drmm-refactor: {c.verdict}: {c.reason}")
            text = text.replace("\n---\n", f"\n---\n{note}\n", 1)
        f.write_text(text)
    for f in files:
        if "0000-cover-letter" in f.name:
            everyone_cc = [a for a in everyone_cc if a not in everyone_to]
            f.write_text(_cover(f.read_text(), s, everyone_to, everyone_cc, date))
    return files


def _message_id(s: Series, k: int) -> str:
    """A Message-Id made from the change-id, so that the same series gives the same
    files (git's own carry the time) and b4 can thread them."""
    return f"<{s.change_id}-v{s.version}-{k}@drmm-refactor>"


def _headers(text: str, to: Sequence[str], cc: Sequence[str], more: dict[str, str]) -> str:
    head, sep, body = text.partition("\n\n")
    extra = "".join(
        f"\n{name}: " + ",\n    ".join(addrs) for name, addrs in (("To", to), ("Cc", cc)) if addrs
    )
    extra += "".join(f"\n{name}: {value}" for name, value in more.items())
    return head + extra + sep + body


def _cover(text: str, s: Series, to: Sequence[str], cc: Sequence[str], date: str) -> str:
    text = text.replace("*** SUBJECT HERE ***", s.subject)
    text = text.replace("*** BLURB HERE ***", s.cover.rstrip("\n") + "\n\n---")
    text = re.sub(r"^(base-commit: \S+)$", lambda m: m.group(1) + f"\nchange-id: {s.change_id}" +
                  (f"\nprerequisite-change-id: {s.prerequisite}" if s.prerequisite else ""), text, count=1,
                  flags=re.M)  # fmt: skip
    when = datetime.datetime.fromtimestamp(int(date.lstrip("@").split()[0]), datetime.UTC)
    text = re.sub(r"^Date: .*$", f"Date: {email.utils.format_datetime(when)}", text, count=1, flags=re.M)
    return _headers(text, to, cc, {"Message-Id": _message_id(s, 0)})


def _record(w: Written, files: Sequence[Path]) -> None:
    s = w.series
    patches = [
        {"id": c.patch.id, "driver": c.patch.driver, "family": c.patch.family, "subject": c.subject,
         "verdict": c.verdict, "arch": c.arch or None, "proof": c.proof or None}
        for c in s.commits
    ]  # fmt: skip
    doc = {
        "tool": {"name": "drmm-refactor", "version": __version__},
        "version": s.version, "branch": s.branch, "base": s.base, "start": w.start, "tip": w.tip,
        "change_id": s.change_id, "prerequisite": s.prerequisite, "files": [f.name for f in files],
        "patches": patches,
    }  # fmt: skip
    output.write_text(json.dumps(doc, indent=2) + "\n", s.out / "series.json")
