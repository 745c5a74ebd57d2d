#!/usr/bin/env python3
"""Draw the random sample of findings for a precision review (docs/review-findings-7.2-v2.md).

    bench/review_sample.py REPORT.json [--size 40] [--seed 20261202]

Stratified by rule.  Every rule gets min(population, 3) findings first (so a rule with
fewer than 3 findings is taken whole); the remaining places go one at a time, by the
D'Hondt rule, to the rule with the largest population / (places + 1) that still has
findings left (ties by rule name), which keeps the quotas roughly proportional.
Within a rule the findings are sorted by (file, line, id), and one
random.Random(seed) draws rng.sample(pool, quota) over the rules in order of
population, largest first (ties by name).  The output is the quota table, then one
line per drawn finding: sample number, rule, confidence, id, file:line, function.
Only the standard library; the same report and seed always print the same sample.
"""

from __future__ import annotations

import argparse
import json
import random
import sys
from collections import defaultdict


def quotas(populations: dict[str, int], size: int) -> dict[str, int]:
    """Places per rule: the minimum of 3 (or all), then D'Hondt over what is left."""
    quota = {rule: min(n, 3) for rule, n in populations.items()}
    while sum(quota.values()) < size:
        open_rules = [r for r, n in populations.items() if quota[r] < n]
        if not open_rules:
            break
        best = max(open_rules, key=lambda r: (populations[r] / (quota[r] + 1), r))
        quota[best] += 1
    return quota


def draw(findings: list[dict], size: int, seed: int) -> list[tuple[dict, int]]:
    """The sample, as (finding, quota of its rule), in drawing order."""
    by_rule: dict[str, list[dict]] = defaultdict(list)
    for f in findings:
        by_rule[f["rule"]].append(f)
    for pool in by_rule.values():
        pool.sort(key=lambda f: (f["file"], f["line"], f["id"]))
    populations = {r: len(p) for r, p in by_rule.items()}
    quota = quotas(populations, size)
    rng = random.Random(seed)
    sample: list[tuple[dict, int]] = []
    for rule in sorted(by_rule, key=lambda r: (-populations[r], r)):
        sample.extend((f, quota[rule]) for f in rng.sample(by_rule[rule], quota[rule]))
    return sample


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("report", help="the JSON of `drmm-refactor sweep --format json`")
    parser.add_argument("--size", type=int, default=40)
    parser.add_argument("--seed", type=int, default=20261202)
    args = parser.parse_args(argv)
    try:
        with open(args.report, encoding="utf-8") as fh:
            findings = json.load(fh)["findings"]
    except (OSError, ValueError, KeyError, TypeError) as exc:
        print(f"review_sample: cannot read findings from {args.report}: {exc}", file=sys.stderr)
        return 2
    sample = draw(findings, args.size, args.seed)
    populations: dict[str, int] = defaultdict(int)
    for f in findings:
        populations[f["rule"]] += 1
    seen: dict[str, int] = {}
    for f, q in sample:
        seen[f["rule"]] = q
    print("| rule | confidence | population | drawn |")
    print("|---|---|---|---|")
    for rule in sorted(populations, key=lambda r: (-populations[r], r)):
        conf = next(f["confidence"] for f in findings if f["rule"] == rule)
        print(f"| {rule} | {conf} | {populations[rule]} | {seen.get(rule, 0)} |")
    print()
    for n, (f, _) in enumerate(sample, 1):
        print(f"{n:2d} {f['rule']} {f['confidence']} {f['id']} {f['file']}:{f['line']} {f['function']}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
