"""Bisectability the way a maintainer checks it: `git rebase -x` over a written series.

    python bench/rebase_x.py TREE OUT_DIR

OUT_DIR is what `drmm-refactor series TREE -o OUT_DIR` wrote (its `series.json` names the
branch, the base and each commit's architecture).  In a scratch clone of TREE (never the
user's checkout) the branch is replayed with

    git rebase --exec "python bench/rebase_x.py --step TREE OUT_DIR" BASE

and after each commit the step compiles the .c files that commit touches, with W=1, in
the prepared allmodconfig build directory of the architecture the commit was verified
for (the one `sweep --verify` and `series` use).  One line per commit; exit 1 when a
commit does not build on its own.
"""

from __future__ import annotations

import json
import sys
from pathlib import Path

from refactor.infra import proc
from refactor.verify import scratch
from refactor.verify.build import Build, arch_env, build_dir, making

LOG = "rebase-x.log"


def _git(cwd: Path, *args: str) -> str:
    res = proc.run(["git", *args], cwd=cwd, timeout=600)
    if not res.ok:
        sys.exit(f"git {' '.join(args)}: {res.stderr.strip()[:300]}")
    return res.stdout


def step(tree: Path, out: Path) -> int:
    """Build HEAD's touched objects (run by git rebase --exec in the scratch clone)."""
    work = Path.cwd()
    doc = json.loads((out / "series.json").read_text())
    subject = _git(work, "log", "-1", "--format=%s").strip()
    arch = next((p["arch"] for p in doc["patches"] if p["subject"] == subject and p["arch"]), "x86_64")
    files = [f for f in _git(work, "diff-tree", "--no-commit-id", "--name-only", "-r", "HEAD").split()
             if f.endswith(".c")]  # fmt: skip
    directory = build_dir(tree, arch)
    if not (directory / ".drmm-prepared").is_file():
        line = f"{subject}: no prepared {arch} build directory ({directory}): run sweep --verify first"
        ok = False
    else:
        objs = [f[:-2] + ".o" for f in files]
        build = Build(directory, arch, {}, "")
        with making(build):
            for obj in objs:
                (directory / obj).unlink(missing_ok=True)  # compile this commit's text
            argv = ["make", f"O={directory}", *arch_env(arch), "W=1", "KCFLAGS=-Wno-error", *objs]
            res = proc.run(argv, cwd=work, timeout=3600)
        ok = res.ok
        errors = [x for x in (res.stdout + res.stderr).splitlines() if ": error:" in x or "*** " in x]
        line = f"{'ok    ' if ok else 'FAILED'} {arch:7} {len(objs)} object(s)  {subject}"
        if not ok:
            line += "\n        " + (errors[0] if errors else "make failed")
    with open(out / LOG, "a") as log:
        log.write(line + "\n")
    print(line, flush=True)
    return 0 if ok else 1


def main(tree: Path, out: Path) -> int:
    doc = json.loads((out / "series.json").read_text())
    (out / LOG).unlink(missing_ok=True)
    with scratch.clone(tree) as work:
        _git(work, "fetch", "--quiet", "origin", doc["branch"])
        _git(work, "checkout", "--quiet", "--detach", "FETCH_HEAD")
        exec_ = f"{sys.executable} {Path(__file__).resolve()} --step {tree.resolve()} {out.resolve()}"
        print(f"git rebase --exec '{exec_}' {doc['base'][:12]}  ({len(doc['patches'])} commits)", flush=True)
        res = proc.run(["git", "rebase", "--exec", exec_, doc["base"]], cwd=work, timeout=4 * 3600)
        if not res.ok:
            print(res.stdout[-2000:], res.stderr[-2000:], sep="\n")
            proc.run(["git", "rebase", "--abort"], cwd=work, timeout=600)
    lines = (out / LOG).read_text().splitlines() if (out / LOG).is_file() else []
    built = sum(x.startswith("ok") for x in lines)
    print(f"{built} of {len(doc['patches'])} commits build their touched objects on their own")
    return 0 if res.ok and built == len(doc["patches"]) else 1


if __name__ == "__main__":
    if len(sys.argv) == 4 and sys.argv[1] == "--step":
        sys.exit(step(Path(sys.argv[2]), Path(sys.argv[3])))
    if len(sys.argv) != 3:
        sys.exit(__doc__)
    sys.exit(main(Path(sys.argv[1]), Path(sys.argv[2])))
