"""Record the per-rule patch-mode cases of tests/cocci/ from the bundled corpus.

    .venv/bin/python tests/cocci/record.py

Generates the corpus' patches and, for each patch-mode rule, keeps the smallest run of
that rule on one file that made every edit it was given: the file as the rule got it
(`CASE.c`, the corpus file, or the file after the rules run before it in the same
plan), the plan entries for that file (`CASE.plan.json`, the list the rules read from
DRMM_REFACTOR_PLAN) and the file after the run (`CASE.res`: spatch's output, before
generate's tidying).  Review the .res files before committing them: they are the
expected output of the rules from now on (test_cocci_patch.py).
"""

from __future__ import annotations

import json
import shutil
import sys
from pathlib import Path

HERE = Path(__file__).resolve().parent
sys.path.insert(0, str(HERE.parent.parent))

from refactor import pipeline  # noqa: E402 - after the checkout is on the path
from refactor.generate import run as generate  # noqa: E402


def main() -> None:
    cases: dict[str, tuple[int, str, str, list[dict[str, object]], str]] = {}
    real = generate.apply_rule

    def recording(spatch, rule, files, *, cwd, env, timeout=300):  # type: ignore[no-untyped-def]
        (rel,) = files
        before = (cwd / rel).read_text()
        failed = real(spatch, rule, files, cwd=cwd, env=env, timeout=timeout)
        after = (cwd / rel).read_text()
        plan = [op for op in json.loads(Path(env["DRMM_REFACTOR_PLAN"]).read_text())
                if op["key"].split("\0")[1] == rel]  # fmt: skip
        if not failed and after != before and plan:
            best = cases.get(rule.id)
            if best is None or len(before) < best[0]:
                cases[rule.id] = (len(before), rel, before, plan, after)
        return failed

    generate.apply_rule = recording  # type: ignore[assignment]
    config = pipeline.SweepConfig(None, use_cache=False)  # outside a kernel tree: the corpus
    pipeline.sweep(config)
    for rule, (_, rel, before, plan, after) in sorted(cases.items()):
        out = HERE / rule
        shutil.rmtree(out, ignore_errors=True)
        out.mkdir()
        stem = Path(rel).stem
        (out / f"{stem}.c").write_text(before)
        (out / f"{stem}.plan.json").write_text(json.dumps(plan, indent=1) + "\n")
        (out / f"{stem}.res").write_text(after)
        print(f"{rule}: {rel} ({len(plan)} planned edits)")


if __name__ == "__main__":
    main()
