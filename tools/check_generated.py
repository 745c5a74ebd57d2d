#!/usr/bin/env python3
"""Check every patch drmm-refactor generates for a git kernel tree: it applies with
`git apply --check` (on top of the patches of the same driver before it) and the files it
touches compile in an x86_64 allmodconfig build.

    tools/check_generated.py TREE [--build DIR] [--jobs N] [--json OUT]

The patches are applied in a separate git worktree of TREE (TREE itself is not touched);
the build directory is prepared once (`make O=DIR allmodconfig prepare`) and kept.  The
first compiler error of each file that fails is printed.  Issue 6 turns this into the
`check` stage; this script is the measurement behind the figures in the notes.
"""

from __future__ import annotations

import argparse
import json
import os
import sys
import tempfile
import time
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))

from refactor import generate, model, proc, spatch, sweep  # noqa: E402


def run(argv: list[str], cwd: Path, timeout: float = 1800) -> proc.Completed:
    return proc.run(argv, cwd=cwd, timeout=timeout)


def first_error(text: str) -> str:
    for line in text.splitlines():
        if ": error:" in line or "Error " in line or "No rule to make target" in line:
            return line.strip()
    lines = [ln for ln in text.splitlines() if ln.strip()]
    return lines[-1].strip() if lines else ""


def main() -> int:
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("tree", type=Path)
    ap.add_argument("--build", type=Path, default=None)
    ap.add_argument("--jobs", type=int, default=2)
    ap.add_argument("--json", type=Path, default=None)
    args = ap.parse_args()
    tree = args.tree.resolve()
    cache = Path(os.environ.get("XDG_CACHE_HOME", Path.home() / ".cache")) / "drmm-refactor"
    default = cache / "build" / f"{tree.parent.name}-worktree-x86_64-allmodconfig"
    build = (args.build or default).resolve()

    start = time.monotonic()
    sp = spatch.find_spatch()
    tm = model.load_tree(tree)
    result = sweep.sweep(tm, sp, sweep.load_rules(), jobs=args.jobs)
    t_sweep = time.monotonic() - start
    gen = generate.generate(result, sp, jobs=args.jobs)
    print(
        f"sweep: {len(result.findings)} findings in {len({f.driver for f in result.findings})} drivers "
        f"({t_sweep:.1f}s); generate: {len(gen.patches)} patches fixing "
        f"{sum(len(p.findings) for p in gen.patches)} findings in {len({p.driver for p in gen.patches})} "
        f"drivers ({gen.seconds:.1f}s); {len(gen.refused)} findings without a patch"
    )

    with tempfile.TemporaryDirectory(prefix="drmm-check-") as tmp:
        work = Path(tmp) / "worktree"
        res = run(["git", "worktree", "add", "--detach", str(work), "HEAD"], tree)
        if not res.ok:
            print(res.stderr, file=sys.stderr)
            return 2
        try:
            if not (build / ".config").is_file():
                build.mkdir(parents=True, exist_ok=True)
                for target in (["allmodconfig"], [f"-j{args.jobs}", "prepare"]):
                    r = run(["make", f"O={build}", *target], work, timeout=3600)
                    if not r.ok:
                        print(r.stdout[-2000:], r.stderr[-2000:], file=sys.stderr)
                        return 2
            rows = []
            for p in gen.patches:
                check = proc.run(["git", "apply", "--check", "-p1", "-"], cwd=work, stdin=p.diff, timeout=60)
                row = {
                    "id": p.id,
                    "driver": p.driver,
                    "family": p.family,
                    "files": list(p.files),
                    "findings": len(p.findings),
                    "applies": check.ok,
                    "apply_error": check.stderr.strip(),
                    "compiled": [],
                    "failed": {},
                }
                if check.ok:
                    proc.run(["git", "apply", "-p1", "-"], cwd=work, stdin=p.diff, timeout=60)
                    for f in p.files:
                        if not f.endswith(".c"):
                            continue
                        obj = f[:-2] + ".o"
                        r = run(["make", f"O={build}", "-s", obj], work, timeout=900)
                        if r.ok:
                            row["compiled"].append(f)
                        else:
                            row["failed"][f] = first_error(r.stderr + r.stdout)
                rows.append(row)
                status = "ok" if check.ok and not row["failed"] else "FAIL"
                print(f"{status:4} {p.id} {p.driver:24} {p.family:18} {', '.join(p.files)}")
                for f, err in row["failed"].items():
                    print(f"     {f}: {err}")
                if not check.ok:
                    print(f"     apply: {check.stderr.strip()[:300]}")
        finally:
            run(["git", "worktree", "remove", "--force", str(work)], tree)
    applied = sum(r["applies"] for r in rows)
    built = sum(r["applies"] and not r["failed"] for r in rows)
    print(
        f"\n{len(rows)} patches: {applied} apply with git apply --check; the touched files of {built} "
        f"compile ({100 * built / max(1, len(rows)):.1f}%); {time.monotonic() - start:.0f}s in all"
    )
    if args.json:
        args.json.write_text(json.dumps({"patches": rows}, indent=2))
    return 0 if built == len(rows) else 1


if __name__ == "__main__":
    sys.exit(main())
