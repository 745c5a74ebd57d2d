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
import os
import re
import tempfile
import textwrap
from collections import Counter
from collections.abc import Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import jinja2

from refactor import __version__
from refactor.generate.run import Generated, Patch
from refactor.infra import output, proc
from refactor.infra.errors import RefactorError
from refactor.sweep.run import Finding, SweepResult
from refactor.verify.run import Checked, touched_files

SUBJECTS = {  # family -> imperative subject after the prefix (a shorter one if too long)
    "double-put": ("Drop the drm_dev_put() that devres already does", "Drop a double drm_dev_put()"),
    "drmm-alloc": ("Allocate {what} with drmm_ helpers", "Use drmm_ allocations"),
    "drmm-mode-config": ("Drop the manual drm_mode_config_cleanup()", "Drop manual mode config cleanup"),
    "drmm-mutex": ("Initialise {what} with drmm_mutex_init()", "Use drmm_mutex_init()"),
    "drm-guards": (
        "Guard hardware access from DRM callbacks with drm_dev_enter()",
        "Guard hardware access with drm_dev_enter()",
        "Use drm_dev_enter() guards",
    ),
}
SPLITS = ("one", "per-driver", "per-rule")
_TRAILER = re.compile(r"^(Fixes|Signed-off-by|Cc|Link|Reported-by|Reviewed-by|Acked-by): ")
_PREFIX = re.compile(r"^((?:drm|gpu|accel|fbdev)/[\w.+/-]+):\s+(?:([\w.+-]+):\s)?")


@dataclass(frozen=True)
class Options:
    out: Path
    branch: str
    split: str = "one"
    version: int = 1
    reroll: bool = False
    dry_run: bool = False
    include_unverified: bool = False
    force: bool = False
    arch: str = ""  # --arch: every patch built for it ("" for each driver's own)


@dataclass(frozen=True)
class Commit:
    patch: Patch
    subject: str
    message: str  # the whole commit message, subject first
    verdict: str
    reason: str
    to: tuple[str, ...]
    cc: tuple[str, ...]
    arch: str = ""  # what it was built for
    proof: str = ""  # "3/3 hunks compiled (arm64)"


@dataclass(frozen=True)
class Series:
    key: str  # "" for the only series, else the driver or family
    branch: str
    version: int
    base: str
    change_id: str
    subject: str  # of the cover letter
    cover: str  # its text, before the shortlog
    commits: tuple[Commit, ...]
    out: Path
    previous: dict[str, Any] | None  # series.json of the version before (--reroll)
    prerequisite: str = ""  # change-id:vN of the series this one applies on


@dataclass(frozen=True)
class Written:
    series: Series
    files: tuple[Path, ...]
    start: str  # the commit the series' first patch applies on
    tip: str


# -- git ----------------------------------------------------------------------------------
def git(tree: Path, *args: str, env: dict[str, str] | None = None, stdin: str | None = None,
        check: bool = True) -> str:  # fmt: skip
    res = proc.run(["git", *args], cwd=tree, env=env, stdin=stdin, timeout=600)
    if check and not res.ok:
        raise RefactorError(f"git {args[0]} failed: {(res.stderr or res.stdout).strip().splitlines()[-1:]}")
    return res.stdout if res.ok else ""


def identity(tree: Path) -> tuple[str, str]:
    name = git(tree, "config", "user.name", check=False).strip()
    email = git(tree, "config", "user.email", check=False).strip()
    if not name or not email:
        raise RefactorError("no git identity for Signed-off-by: set git config user.name and user.email")
    return name, email


def _date(tree: Path) -> str:
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
    is found, there is no tag.  `switch` is `_introduced(tree, "devm_drm_dev_alloc", the
    module's files)`, looked up once per driver."""
    tags: list[str] = []
    for f in findings:
        try:
            code = (tree / f.file).read_text(errors="replace").splitlines()[f.line - 1].strip()
        except (OSError, IndexError):
            continue
        call = code[: code.index("(") + 1] if "(" in code else code  # arguments may be re-wrapped later
        line = _introduced(tree, call if len(call) > 12 else code, [f.file]) if len(code) > 8 else None
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
    return proc.run(["git", "merge-base", "--is-ancestor", a, b], cwd=tree, timeout=120).ok


def _introduced(tree: Path, text: str, files: Sequence[str]) -> tuple[str, bool] | None:
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


# -- messages -----------------------------------------------------------------------------
def _env() -> jinja2.Environment:
    return jinja2.Environment(
        loader=jinja2.PackageLoader("refactor", "templates"),
        undefined=jinja2.StrictUndefined,
        keep_trailing_newline=True,
        autoescape=False,
    )


def wrap(text: str, width: int = 75) -> str:
    """Wrap each paragraph at `width`; bullets ("- ") get a hanging indent; trailers, the
    subject and indented lines are kept as they are."""
    out: list[str] = []
    for line in text.splitlines():
        if not line.strip() or line.startswith((" ", "\t")) or _TRAILER.match(line) or len(line) <= width:
            out.append(line.rstrip())
        elif line.startswith("- "):
            out += textwrap.wrap(
                line, width, subsequent_indent="  ", break_on_hyphens=False, break_long_words=False
            )
        else:
            out += textwrap.wrap(line, width, break_on_hyphens=False, break_long_words=False)
    return "\n".join(out).strip("\n") + "\n"


def subject(prefix: str, patch: Patch) -> str:
    what = {
        "drmm-alloc": ("mode objects" if {"devm-mode-object", "unmanaged-mode-object"} & set(patch.rules)
                       else "driver memory")
        + (" and locks" if "unmanaged-mutex" in patch.rules else ""),
        "drmm-mutex": "mutexes" if len(patch.findings) > 1 else "the mutex",
    }.get(patch.family, "")
    for text in SUBJECTS.get(patch.family, (f"Fix {patch.family}",)):
        line = f"{prefix}: {text.format(what=what)}"
        if len(line) <= 75:
            return line
    return line


def _removed(diff: str) -> list[str]:
    gone = [x[1:] for x in diff.splitlines() if x.startswith("-") and not x.startswith("---")]
    out = []
    if any(re.search(r"\.destroy\s*=", x) for x in gone):
        out.append("the .destroy hooks")
    cleanups = sorted({m for x in gone for m in re.findall(r"\b(drm_\w+_cleanup)\(", x)})
    if cleanups:
        out.append(", ".join(f"{c}()" for c in cleanups) + (" calls" if len(cleanups) > 1 else " call"))
    return out


def checked_text(check: Checked | None, arch: str = "") -> str:
    """What verification showed, for the commit message (`arch`: the one asked for when
    the check does not say)."""
    if check is None or check.verdict == "not-checked" and not check.stages:
        return "It was not verified" + (f" ({check.reason})." if check else ".")
    arch = check.arch or arch or "x86_64"
    proof = check.proof
    seen = ""
    if proof is not None and proof.hunks:
        seen = (f", a marker put in each of its {proof.hunks} hunks appears in the preprocessed source"
                if proof.hunks > 1 else ", a marker put in its hunk appears in the preprocessed source")
    if check.verdict == "verified":
        return (f"It applies, breaks none of the lifetime invariants drmm-refactor checks, the files it "
                f"touches build under {arch} allmodconfig with W=1 and no new warning{seen}, checkpatch.pl "
                "--strict reports nothing new, and a re-sweep no longer reports the problem.")  # fmt: skip
    if check.verdict == "not-built":
        return (f"It applies, breaks none of the lifetime invariants drmm-refactor checks, and "
                f"checkpatch.pl --strict reports nothing new; {arch} allmodconfig does not "
                f"build the changed code ({check.reason}).")  # fmt: skip
    return f"It did not pass verification ({check.verdict}: {check.reason})."


def message(patch: Patch, findings: Sequence[Finding], prefix: str, driver: Any, check: Checked | None,
            fixes: Sequence[str], signoff: str, arch: str) -> str:  # fmt: skip
    """The commit message of `patch` for `driver` (a model.Driver), wrapped at 75."""
    added = [x for x in patch.diff.splitlines() if x.startswith("+") and not x.startswith("+++")]
    helpers = list(dict.fromkeys(m + "()" for x in added for m in re.findall(r"\b(drmm_\w+)\(", x)))
    alloc = re.compile(r"drmm_(k\w*alloc\w*|kstrdup|kmemdup|\w+_alloc(_with_planes)?)\(")
    allocs = [h for h in helpers if alloc.match(h)]
    if driver.role == "component" or not driver.allocations:
        intro = f"{patch.driver} binds as a component of a DRM device."
    else:
        intro = f"{patch.driver} allocates its drm_device with {driver.allocations[0].api}()."
    text = _env().get_template("commit.txt.j2").render(
        subject=subject(prefix, patch), family=patch.family, driver=patch.driver,
        intro=intro,
        parent="the component device" if driver.role == "component" else "the device",
        findings=[{"function": f.function, "file": f.file.rsplit("/", 1)[-1], "message": f.message}
                  for f in findings],
        mode_objects=bool({"devm-mode-object", "unmanaged-mode-object"} & set(patch.rules)), allocs=allocs,
        unmanaged="unmanaged-mode-object" in patch.rules and "devm-mode-object" not in patch.rules,
        inits=[h for h in helpers if h not in allocs and h not in ("drmm_mutex_init()",
                                                                    "drmm_add_action_or_reset()")],
        actions=[m for x in added for m in re.findall(r"drmm_add_action_or_reset\([^,]+, (\w+),", x)],
        removed=_removed(patch.diff),
        version=__version__, cocci=[f"{r}.cocci" for r in patch.rules], checked=checked_text(check, arch),
        fixes=list(fixes), signoff=signoff, rules=patch.rules,
    )  # fmt: skip
    return wrap(re.sub(r"\n{3,}", "\n\n", text))


def cover_text(series_commits: Sequence[Commit], spatch: str, arch: str, prerequisite: str) -> str:
    drivers = sorted({c.patch.driver for c in series_commits})
    width = max(len(d) for d in drivers)
    table = [f"{'driver'.ljust(width)}  fix", f"{'-' * width}  {'-' * (70 - width)}"]
    for c in series_commits:
        n = len(c.patch.findings)
        table.append(
            f"{c.patch.driver.ljust(width)}  {c.subject.split(': ')[-1]} ({n} finding{'s' * (n > 1)})"
        )
    built = [f"{c.patch.driver}: {c.proof}" for c in series_commits if c.proof]
    arches = sorted({c.arch for c in series_commits if c.arch}) or [arch or "x86_64"]
    unverified = [f"{c.patch.driver} ({c.verdict}{': ' + c.reason if c.verdict == 'unsafe' else ''})"
                  for c in series_commits if c.verdict != "verified"]  # fmt: skip
    rules = sorted({r for c in series_commits for r in c.patch.rules})
    text = _env().get_template("cover.txt.j2").render(
        drivers=drivers, table=[" " + row for row in table], version=__version__,
        cocci=[f"{r}.cocci" for r in rules], spatch=spatch, arch=" or ".join(arches), unverified=unverified,
        prerequisite=prerequisite, built=built, several=len(arches) > 1,
    )  # fmt: skip
    return wrap(text)


def cover_subject(commits: Sequence[Commit], key: str, split: str) -> str:
    if split == "per-driver" and commits:
        prefix = commits[0].subject.rsplit(": ", 1)[0]
        return f"{prefix}: Tie resources to the drm_device lifetime"
    families = {c.patch.family for c in commits}
    if families == {"drmm-mutex"}:
        return "drm: Initialise drm-lifetime mutexes with drmm_mutex_init()"
    if families == {"drmm-mode-config"}:
        return "drm: Drop manual drm_mode_config_cleanup() calls"
    if families == {"double-put"}:
        return "drm: Drop drm_dev_put() of devres-managed drm devices"
    if families == {"drm-guards"}:
        return "drm: Guard hardware access from DRM callbacks with drm_dev_enter()"
    return "drm: Tie driver resources to the drm_device lifetime"


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
            switches[p.driver] = _introduced(tree, "devm_drm_dev_alloc", d.module.files)
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
        from refactor.families.plan import FAMILIES

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
def write(tree: Path, series: Sequence[Series], opts: Options) -> list[Written]:
    """Commit, format and (unless dry-run) put each series in place: files in its output
    directory, the branch at its tip.  Everything is made in temporary places first."""
    for s in series:
        _check_branch(tree, s, opts)
    written: list[Written] = []
    base = series[0].base if series else ""
    date = _date(tree)
    name, email = identity(tree)
    env = {"GIT_AUTHOR_NAME": name, "GIT_AUTHOR_EMAIL": email, "GIT_COMMITTER_NAME": name,
           "GIT_COMMITTER_EMAIL": email, "GIT_AUTHOR_DATE": date, "GIT_COMMITTER_DATE": date}  # fmt: skip
    with tempfile.TemporaryDirectory(prefix="drmm-series-") as tmp:
        work = Path(tmp) / "tree"
        # a worktree with only the files the patches touch (and get_maintainer.pl's):
        # checking out and removing a whole kernel tree costs minutes
        git(tree, "worktree", "add", "--detach", "--no-checkout", "--quiet", str(work), base)
        needed = {"MAINTAINERS", "scripts/get_maintainer.pl"}
        needed |= {f for s in series for c in s.commits for f in touched_files(c.patch.diff, deleted=True)}
        try:
            for s in series:  # a per-rule series continues from the one before
                if not s.prerequisite:
                    git(work, "reset", "--quiet", s.base)
                    present = git(work, "ls-tree", "-r", "--name-only", s.base, "--", *sorted(needed)).split()
                    if present:
                        git(work, "checkout", s.base, "--", *present)
                for c in s.commits:
                    res = proc.run(
                        ["git", "apply", "--index", "-p1", "-"], cwd=work, stdin=c.patch.diff, timeout=120
                    )
                    if not res.ok:
                        raise RefactorError(f"patch {c.patch.id} ({c.patch.driver}) does not apply: "
                                            f"{res.stderr.strip().splitlines()[:1]}")  # fmt: skip
                    git(work, "commit", "--quiet", "--no-verify", "-F", "-", env=env, stdin=c.message)
                tip = git(work, "rev-parse", "HEAD").strip()
                start = s.base if not s.prerequisite else written[-1].tip
                staging = Path(tmp) / f"out-{len(written)}"
                files = _format(work, s, start, tip, staging, date)
                written.append(Written(s, tuple(files), start, tip))
        finally:
            proc.run(["git", "worktree", "remove", "--force", str(work)], cwd=tree, timeout=600)
            proc.run(["git", "worktree", "prune"], cwd=tree, timeout=120)
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
    if not proc.run(["git", "check-ref-format", "--branch", s.branch], cwd=tree, timeout=60).ok:
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
