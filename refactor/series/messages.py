"""The text of a series: commit subjects and messages (from the package's jinja2
templates, wrapped at 75 columns), what verification showed, and the cover letter.
"""

from __future__ import annotations

import re
import textwrap
from collections.abc import Sequence

import jinja2

from refactor import __version__
from refactor.classify.findings import Finding
from refactor.families.registry import FAMILIES
from refactor.generate.run import Patch
from refactor.model.tree import Driver
from refactor.series.commits import Commit
from refactor.verify.checked import Checked

_TRAILER = re.compile(r"^(Fixes|Signed-off-by|Cc|Link|Reported-by|Reviewed-by|Acked-by): ")


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
    family = FAMILIES.get(patch.family)
    what = family.what(patch.rules, len(patch.findings)) if family is not None and family.what else ""
    for text in family.subjects if family is not None else (f"Fix {patch.family}",):
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
        seen = (
            f", a marker put in each of its {proof.hunks} hunks appears in the preprocessed source"
            if proof.hunks > 1
            else ", a marker put in its hunk appears in the preprocessed source"
        )
    if check.verdict == "verified":
        return (f"It applies, breaks none of the lifetime invariants drmm-refactor checks, the files it "
                f"touches build under {arch} allmodconfig with W=1 and no new warning{seen}, checkpatch.pl "
                "--strict reports nothing new, and a re-sweep no longer reports the problem.")  # fmt: skip
    if check.verdict == "not-built":
        return (f"It applies, breaks none of the lifetime invariants drmm-refactor checks, and "
                f"checkpatch.pl --strict reports nothing new; {arch} allmodconfig does not "
                f"build the changed code ({check.reason}).")  # fmt: skip
    return f"It did not pass verification ({check.verdict}: {check.reason})."


def message(patch: Patch, findings: Sequence[Finding], prefix: str, driver: Driver, check: Checked | None,
            fixes: Sequence[str], signoff: str, arch: str) -> str:  # fmt: skip
    """The commit message of `patch` for `driver`, wrapped at 75."""
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
        template=family.template if (family := FAMILIES.get(patch.family)) is not None else "",
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
    present = {c.patch.family for c in series_commits}
    summaries = [f.summary for name, f in FAMILIES.items() if name in present and f.summary]
    text = _env().get_template("cover.txt.j2").render(
        drivers=drivers, summaries=summaries, table=[" " + row for row in table], version=__version__,
        cocci=[f"{r}.cocci" for r in rules], spatch=spatch, arch=" or ".join(arches), unverified=unverified,
        prerequisite=prerequisite, built=built, several=len(arches) > 1,
    )  # fmt: skip
    return wrap(text)


def cover_subject(commits: Sequence[Commit], key: str, split: str) -> str:
    if split == "per-driver" and commits:
        prefix = commits[0].subject.rsplit(": ", 1)[0]
        return f"{prefix}: Tie resources to the drm_device lifetime"
    families = {c.patch.family for c in commits}
    if len(families) == 1 and (only := FAMILIES.get(families.pop())) is not None:
        return only.cover
    return "drm: Tie driver resources to the drm_device lifetime"
