#!/usr/bin/env python3
"""Verification of every generated patch for a git kernel tree, twice: cold (an empty
cache directory: the build directory is prepared and every file compiled) and warm (the
same patches again).  Prints the verdict table (per verdict and per rule), both wall
times and their ratio.

    bench/verify_cache.py TREE [--cache DIR] [--jobs N] [--json OUT]

The cold run uses DIR (default: a new temporary directory) as DRMM_REFACTOR_CACHE, so
the user's own cache is neither used nor changed.
"""

from __future__ import annotations

import argparse
import json
import os
import sys
import tempfile
import time
from collections import Counter
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))

from refactor.cocci import spatch  # noqa: E402
from refactor.generate import run as generate  # noqa: E402
from refactor.model import tree as model  # noqa: E402
from refactor.sweep import run as sweep  # noqa: E402
from refactor.verify import run as verify  # noqa: E402


def main() -> int:
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("tree", type=Path)
    ap.add_argument("--cache", type=Path)
    ap.add_argument("--jobs", type=int, default=2)
    ap.add_argument("--json", type=Path)
    args = ap.parse_args()
    cache = args.cache or Path(tempfile.mkdtemp(prefix="drmm-bench-cache-"))
    os.environ["DRMM_REFACTOR_CACHE"] = str(cache)

    t0 = time.monotonic()
    sp = spatch.find_spatch()
    rules = sweep.load_rules()
    result = sweep.sweep(model.load_tree(args.tree), sp, rules, jobs=args.jobs)
    t_sweep = time.monotonic() - t0
    gen = generate.generate(result, sp, jobs=args.jobs)
    cands = verify.candidates_of(gen, result)
    print(
        f"sweep {t_sweep:.1f}s: {len(result.findings)} findings; generate {gen.seconds:.1f}s: "
        f"{len(gen.patches)} patches in {len({p.driver for p in gen.patches})} drivers"
    )

    runs = []
    for label in ("cold", "warm"):
        checks, hits, seconds = verify.verify(
            args.tree, cands, jobs=args.jobs, effect=verify.effect_stage(sp, rules)
        )
        runs.append((label, checks, hits, seconds))
        print(f"verify {label}: {seconds:.1f}s, {hits} cached results")
    (_, checks, _, cold), (_, again, _, warm) = runs
    assert [c.verdict for c in checks] == [c.verdict for c in again], "the warm run changed a verdict"

    rules_of = {p.id: p.rules for p in gen.patches}
    driver_of = {p.id: p.driver for p in gen.patches}
    per_verdict = Counter(c.verdict for c in checks)
    per_rule: dict[str, Counter[str]] = {}
    for c in checks:
        for r in rules_of[c.patch]:
            per_rule.setdefault(r, Counter())[c.verdict] += 1
    print("\nverdict            patches")
    for v, n in sorted(per_verdict.items()):
        print(f"{v:18} {n:7}")
    print("\nrule                      " + "  ".join(f"{v:>10}" for v in sorted(per_verdict)))
    for r, counts in sorted(per_rule.items()):
        print(f"{r:25} " + "  ".join(f"{counts[v]:>10}" for v in sorted(per_verdict)))
    print()
    for c in checks:
        if c.verdict != "verified":
            print(f"{c.verdict:18} {c.patch} {driver_of[c.patch]}: {c.reason}")
    print(
        f"\ncold {cold:.1f}s, warm {warm:.1f}s: "
        f"the second verification is {cold / max(warm, 1e-9):.1f}x faster"
    )
    if args.json:
        args.json.write_text(
            json.dumps(
                [
                    {
                        "patch": c.patch,
                        "verdict": c.verdict,
                        "reason": c.reason,
                        "rules": list(rules_of[c.patch]),
                    }
                    for c in checks
                ],
                indent=2,
            )
        )
    return 0


if __name__ == "__main__":
    sys.exit(main())
