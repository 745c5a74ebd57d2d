#!/usr/bin/env python3
"""The whole job's speed on a kernel tree, against the kernel's own `make coccicheck`, in one run:

1. sweeps, each `drmm-refactor sweep --format json` timed as the user sees it (with its
   peak memory and the load average): cold finding alone (`--no-patches`, an empty
   cache), cold plain sweep (findings and patches, another empty cache), warm plain
   sweep, warm `--no-patches`, a plain sweep after touching one driver file (in a copy
   of the tree made of hard links in the cache directory; the touched file gets its own
   copy first, so the tree is never written), and the uncached plain sweep
   (`--no-cache`, skipped with `--no-uncached`).  The findings and patches of every run
   are compared with the cold plain sweep's (moved by a line in the touched file);
2. optional: `sweep --verify --paths P` cold and warm (`--verify-paths P`, repeatable;
   its own empty cache, so the build is cold too), and `series --dry-run --paths P`
   cold and warm on a git tree (`--series-tree GIT`, `--series-paths P`);
3. `make coccicheck MODE=report COCCI=semantic_patches/RULE.cocci J=N M=DIR` for every
   rule and every directory holding swept files (the tree's `.cocciconfig` applies), in
   another hard-linked copy, checked to be left clean.  By default coccicheck runs with
   DRMM_REFACTOR=1 in its environment, the mode drmm-refactor runs the same files in:
   every rule then reports each candidate it matched, and coccicheck does exactly the
   spatch work the sweep does.  `--kernel-mode` runs the rules' own coccicheck mode
   instead (stricter single-file approximations of the classifier, fewer reports);
4. the finding sets (rule, file, line) compared: coccicheck's reports in the swept files
   against the sweep's candidates (what the rules report before classification: the
   same set is expected), and the sweep's findings against coccicheck's reports (every
   finding is expected among them).

Prints wall times, the ratios, peak memory (largest single process, and the largest sum
over the process tree, sampled) and the load average.

    bench/sweep_speed.py TREE [--jobs N] [--touch FILE] [--no-coccicheck] [--budget S]
                              [--kernel-mode] [--keep] [--no-uncached]
                              [--verify-paths P ...] [--series-tree GIT --series-paths P ...]
"""

from __future__ import annotations

import argparse
import functools
import json
import os
import re
import resource
import shutil
import sys
import tempfile
import threading
import time
from collections.abc import Callable
from pathlib import Path

REPO = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(REPO))

from refactor.cocci import spatch  # noqa: E402
from refactor.infra import proc  # noqa: E402
from refactor.infra.cache import cache_dir  # noqa: E402
from refactor.model import treecache  # noqa: E402
from refactor.sweep import run as sweep  # noqa: E402

Key = tuple[str, str, int]  # rule, file, line
_REPORT = re.compile(r"^(?:\./)?(\S+?):(\d+):\d+-\d+: ")


class Peak:
    """Samples the resident memory of this process's descendants (summed) until stopped."""

    def __init__(self) -> None:
        self.peak = 0
        self._stop = threading.Event()
        self._thread = threading.Thread(target=self._run, daemon=True)

    def __enter__(self) -> Peak:
        self._thread.start()
        return self

    def __exit__(self, *exc: object) -> None:
        self._stop.set()
        self._thread.join()

    def _run(self) -> None:
        while not self._stop.wait(0.2):
            self.peak = max(self.peak, sum(_rss(p) for p in _descendants(os.getpid())))


def _descendants(pid: int) -> list[int]:
    out, todo = [], [pid]
    while todo:
        p = todo.pop()
        try:
            for task in os.listdir(f"/proc/{p}/task"):
                kids = Path(f"/proc/{p}/task/{task}/children").read_text().split()
                out += [int(k) for k in kids]
                todo += [int(k) for k in kids]
        except OSError:
            continue
    return out


def _rss(pid: int) -> int:
    try:
        for line in Path(f"/proc/{pid}/status").read_text().splitlines():
            if line.startswith("VmRSS:"):
                return int(line.split()[1]) * 1024
    except OSError:
        pass
    return 0


def timed(label: str, fn: Callable[[], object]) -> tuple[float, int, object]:
    with Peak() as peak:
        start = time.monotonic()
        value = fn()
        seconds = time.monotonic() - start
    print(
        f"{label:34} {seconds:8.1f} s   peak tree RSS {peak.peak / 2**20:7.0f} MiB   "
        f"load {os.getloadavg()[0]:.1f}",
        flush=True,
    )
    return seconds, peak.peak, value


def cli(argv: list[str], cache: Path, ok: tuple[int, ...] = (0, 1)) -> str:
    """Run `drmm-refactor ARGV` with `cache` as its cache; its standard output."""
    res = proc.run([sys.executable, "-m", "refactor", *argv], cwd=REPO, timeout=7200,
                   env={"PYTHONPATH": str(REPO), "DRMM_REFACTOR_CACHE": str(cache)})  # fmt: skip
    if res.returncode not in ok:
        raise SystemExit(f"{argv[0]} failed ({res.returncode}): {res.stderr.strip()[-500:]}")
    return res.stdout


def cli_sweep(tree: Path, out: Path, jobs: int, cache: Path, *extra: str) -> dict:  # type: ignore[type-arg]
    cli(["sweep", str(tree), *extra, "--jobs", str(jobs), "--format", "json", "-o", str(out)], cache)
    return json.loads(out.read_text())  # type: ignore[no-any-return]


def patches_of(doc: dict, skip_driver: str = "") -> list[tuple[str, ...]]:  # type: ignore[type-arg]
    return [(p["id"], p["driver"], p["family"], *p["files"], p["diff"])
            for p in doc.get("patches", []) if p["driver"] != skip_driver]  # fmt: skip


def unlinked(doc: dict) -> list[dict]:  # type: ignore[type-arg]
    """The findings without their links to patches (absent under --no-patches)."""
    return [{k: v for k, v in f.items() if k not in ("patch", "no_patch")} for f in doc["findings"]]


def same_run(a: dict, b: dict) -> bool:  # type: ignore[type-arg]
    """The same findings (all fields), skipped files and patches."""
    return a["findings"] == b["findings"] and a["skipped"] == b["skipped"] and patches_of(a) == patches_of(b)


def findings_of(doc: dict) -> set[Key]:  # type: ignore[type-arg]
    return {(f["rule"], f["file"], f["line"]) for f in doc["findings"]}


def hardlink_copy(tree: Path, dst: Path) -> Path:
    if os.stat(tree).st_dev != os.stat(dst.parent).st_dev:
        raise SystemExit(f"{dst.parent} is not on the filesystem of {tree}: use --cache on it")
    if not proc.run(["cp", "-al", str(tree), str(dst)], timeout=3600).ok:
        raise SystemExit(f"cp -al {tree} {dst} failed")
    return dst


def touch(copy: Path, rel: str) -> None:
    """Give the file its own inode, then add a line at its top (every line below moves)."""
    path = copy / rel
    data = path.read_bytes()
    path.unlink()
    path.write_bytes(b"/* touched by bench/sweep_speed.py */\n" + data)


def raw_candidates(tree: Path, rules: list[spatch.Rule], sp: spatch.Spatch, cache: Path) -> set[Key]:
    """What the rules report (DRMM_REFACTOR=1) before classification, from the warm cache."""
    os.environ["DRMM_REFACTOR_CACHE"] = str(cache)
    loaded = treecache.load(tree)
    assert loaded.cache is not None
    c = loaded.cache
    c.setup(sp, rules, 120, loaded.model.api.names)  # the CLI's default timeout
    owner: dict[str, sweep.Driver] = {}
    for d in loaded.model.drivers:
        if not d.test:
            for f in d.module.files:
                owner.setdefault(f, d)
    owned: dict[str, list[str]] = {}
    for f in sorted(owner):
        owned.setdefault(owner[f].name, []).append(f)
    out: set[Key] = set()
    for f, d in owner.items():
        key = c.driver_key(d, owned[d.name])
        for rule in rules:
            hit = c.results.get(c.file_key(rule, f, key))
            for m in getattr(hit, "matches", ()):
                out.add((rule.id, f, m.line))
    return out


def coccicheck(
    copy: Path, rules: list[spatch.Rule], dirs: list[str], jobs: int, budget: float, tool_mode: bool,
    logs: Path,
) -> tuple[set[Key], float, dict[str, str]]:  # fmt: skip
    """Run each rule over each directory until `budget` seconds are spent (the run that
    reaches it is stopped): the reports, the seconds, and each rule's status (complete,
    crashed: a run failed and lost its reports, or stopped: the budget ran out).
    Each run's output goes to `logs`/RULE-DIR.log."""
    env = {"DRMM_REFACTOR": "1"} if tool_mode else {}
    logs.mkdir(parents=True, exist_ok=True)
    found: set[Key] = set()
    total = 0.0
    status: dict[str, str] = {}
    for rule in rules:
        status[rule.id] = "complete"
        for d in dirs:
            left = budget - total
            if left <= 0:
                status[rule.id] = "stopped"
                break
            argv = ["make", "coccicheck", "MODE=report", f"COCCI={rule.path}", f"J={jobs}", f"M={d}"]
            start = time.monotonic()
            res = proc.run(argv, cwd=copy, timeout=left, env=env)
            seconds = time.monotonic() - start
            total += seconds
            log = logs / f"{rule.id}-{d.replace('/', '_')}.log"
            log.write_text(f"$ {' '.join(argv)}\n{res.stdout}\n--- stderr ---\n{res.stderr}")
            lines = [ln for ln in res.stdout.splitlines() if _REPORT.match(ln)]
            note = ""
            if res.timed_out:
                note, status[rule.id] = "  (stopped: budget spent)", "stopped"
            elif not res.ok:
                why = [
                    ln.strip()
                    for ln in (res.stdout + res.stderr).splitlines()
                    if re.search(r"Fatal|exception|Error|failed|rror:|fault", ln) and "make" not in ln
                ]
                status[rule.id] = "crashed"
                note = f"  (exit {res.returncode}: {' | '.join(why[-3:])[:300]}; log {log})"
            print(
                f"  coccicheck {rule.id:22} M={d:24} {seconds:7.1f} s  {len(lines):4} reports{note}",
                flush=True,
            )
            for ln in lines:
                m = _REPORT.match(ln)
                assert m is not None
                name = m.group(1)
                # spatch runs in M's directory: its names are relative to it
                rel = (
                    os.path.relpath(name, copy)
                    if name.startswith("/")
                    else os.path.normpath(os.path.join(d, name))
                )
                found.add((rule.id, rel, int(m.group(2))))
        if total >= budget:
            break
    return found, total, status


def scope_dirs(doc: dict) -> list[str]:  # type: ignore[type-arg]
    """The directories coccicheck must cover to see every swept file: drivers/gpu/drm, and
    the module directories of drivers outside it."""
    dirs: set[str] = set()
    for d in doc["drivers"]:
        for f in d["files"]:
            parts = f.split("/")
            top = 3 if f.startswith(("drivers/gpu/drm/", "drivers/accel/")) else len(parts) - 1
            dirs.add("/".join(parts[:top]))
    out: list[str] = []
    for d in sorted(dirs, key=len):
        if not any(d == o or d.startswith(o + "/") for o in out):
            out.append(d)
    return sorted(out)


def compare(name: str, a: set[Key], b: set[Key], label_a: str, label_b: str) -> None:
    both = a & b
    print(
        f"{name}: {label_a} {len(a)}, {label_b} {len(b)}, both {len(both)}, "
        f"only {label_a} {len(a - b)}, only {label_b} {len(b - a)}"
    )
    for k in sorted(a - b)[:8]:
        print(f"    only {label_a}: {k[1]}:{k[2]} [{k[0]}]")
    for k in sorted(b - a)[:8]:
        print(f"    only {label_b}: {k[1]}:{k[2]} [{k[0]}]")


def main() -> int:
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("tree", type=Path)
    ap.add_argument("--jobs", type=int, default=2)
    ap.add_argument("--touch", default="drivers/gpu/drm/tiny/repaper.c", help="The driver file to touch.")
    ap.add_argument(
        "--cache", type=Path, help="Work directory (default: a new one next to the tree's cache)."
    )
    ap.add_argument("--no-coccicheck", action="store_true")
    ap.add_argument(
        "--budget",
        type=float,
        default=float("inf"),
        help="Stop make coccicheck after this many seconds (its time is then a lower bound).",
    )
    ap.add_argument(
        "--kernel-mode",
        action="store_true",
        help="Run make coccicheck without DRMM_REFACTOR=1 (the rules' own stricter coccicheck mode).",
    )
    ap.add_argument("--keep", action="store_true", help="Keep the work directory.")
    ap.add_argument("--no-uncached", action="store_true", help="Skip the --no-cache plain sweep.")
    ap.add_argument("--no-cold-find", action="store_true",
                    help="Skip the cold --no-patches sweep: take the cold finding time as the cold plain "
                    "sweep's less its patch generation (stats.patch_seconds).")  # fmt: skip
    ap.add_argument("--verify-paths", action="append", default=[],
                    help="Time sweep --verify --paths P cold and warm (repeatable).")  # fmt: skip
    ap.add_argument("--series-tree", type=Path, help="A git tree for series --dry-run cold and warm.")
    ap.add_argument("--series-paths", action="append", default=[], help="--paths for series (repeatable).")
    args = ap.parse_args()
    tree = args.tree.resolve()
    cache_dir().mkdir(parents=True, exist_ok=True)
    base = args.cache or Path(tempfile.mkdtemp(prefix="bench-sweep-", dir=cache_dir()))
    work = base / "work"
    work.mkdir(parents=True, exist_ok=True)
    os.environ["DRMM_REFACTOR_CACHE"] = str(base / "cache")
    sp = spatch.find_spatch()
    rules = sweep.load_rules()
    print(
        f"tree {tree} ({os.cpu_count()} CPUs, jobs {args.jobs}, spatch {sp.version_text}, "
        f"{len(rules)} rules); cache {base / 'cache'}",
        flush=True,
    )
    caches = {n: base / f"cache-{n}" for n in ("find", "plain", "verify", "series")}
    times: dict[str, float] = {}
    peaks: dict[str, int] = {}

    def run(name: str, label: str, fn: Callable[[], object]) -> object:
        times[name], peaks[name], value = timed(label, fn)
        return value

    try:
        plain = caches["plain"]
        find = None
        if not args.no_cold_find:
            find = run(
                "find",
                "cold finding (--no-patches, empty cache)",
                lambda: cli_sweep(tree, work / "find.json", args.jobs, caches["find"], "--no-patches"),
            )
        cold = run(
            "cold",
            "cold plain sweep (empty cache)",
            lambda: cli_sweep(tree, work / "cold.json", args.jobs, plain),
        )
        assert isinstance(cold, dict)
        if find is None:
            find, times["find"] = cold, times["cold"] - cold["stats"]["patch_seconds"]
            print(f"cold finding (cold plain sweep less its patch generation) {times['find']:6.1f} s")
        warm = run("warm", "warm plain sweep", lambda: cli_sweep(tree, work / "warm.json", args.jobs, plain))
        warm_np = run(
            "warm_np",
            "warm sweep --no-patches",
            lambda: cli_sweep(tree, work / "warm-np.json", args.jobs, plain, "--no-patches"),
        )
        assert isinstance(cold, dict) and isinstance(warm, dict) and isinstance(find, dict)
        assert isinstance(warm_np, dict)
        print(
            f"  {len(cold['findings'])} findings, {len(cold['patches'])} patches, {cold['stats']['files']} "
            f"files, {len(cold['drivers'])} drivers; cold patch generation {cold['stats']['patch_seconds']} s"
        )
        print(f"  cold finding = cold plain sweep's findings: {find['findings'] == cold['findings']}; "
              f"warm plain sweep identical: {same_run(cold, warm)} (cache hits {warm['stats']['cache_hits']} "
              f"drivers, {warm['stats'].get('patch_cache_hits')} drivers' patches); warm --no-patches "
              f"findings identical: {unlinked(warm_np) == unlinked(cold)}")  # fmt: skip
        copy = hardlink_copy(tree, work / "touched")
        touch(copy, args.touch)
        touched = run(
            "touched",
            f"plain sweep after touching {Path(args.touch).name}",
            lambda: cli_sweep(copy, work / "touched.json", args.jobs, plain),
        )
        assert isinstance(touched, dict)
        moved = {(r, f, n + 1 if f == args.touch else n) for r, f, n in findings_of(cold)}
        mine = next((d["name"] for d in cold["drivers"] if args.touch in d["files"]), "")
        print(
            f"  findings after the touch = cold findings moved by a line in {args.touch}: "
            f"{findings_of(touched) == moved}; other drivers' patches identical: "
            f"{patches_of(touched, mine) == patches_of(cold, mine)}; patches from the cache: "
            f"{touched['stats'].get('patch_cache_hits')} drivers"
        )
        if not args.no_uncached:
            fresh = run(
                "uncached",
                "uncached plain sweep (--no-cache)",
                lambda: cli_sweep(tree, work / "uncached.json", args.jobs, base / "unused", "--no-cache"),
            )
            assert isinstance(fresh, dict)
            print(f"  uncached run identical to the cold one (findings, skipped, patches): "
                  f"{same_run(cold, fresh)}")  # fmt: skip
        vpaths = [a for p in args.verify_paths for a in ("--paths", p)]
        for label in ("cold", "warm") if args.verify_paths else ():
            out = work / f"verify-{label}.json"
            doc = run(f"verify_{label}", f"{label} sweep --verify {' '.join(args.verify_paths)}",
                      functools.partial(cli_sweep, tree, out, args.jobs, caches["verify"], "--verify",
                                        *vpaths))  # fmt: skip
            assert isinstance(doc, dict)
            verdicts: dict[str, int] = {}
            for p in doc["patches"]:
                verdicts[p["verdict"]] = verdicts.get(p["verdict"], 0) + 1
            print(f"  {len(doc['patches'])} patches: {verdicts}")
        spaths = [a for p in args.series_paths for a in ("--paths", p)]
        for label in ("cold", "warm") if args.series_tree else ():
            argv = ["series", str(args.series_tree.resolve()), "-o", str(work / "series"), "--dry-run",
                    "--jobs", str(args.jobs), *spaths]  # fmt: skip
            text = str(run(f"series_{label}", f"{label} series --dry-run {' '.join(args.series_paths)}",
                           functools.partial(cli, argv, caches["series"])))  # fmt: skip
            print("  " + (text.strip().splitlines() or ["(no output)"])[-1])
        raw = raw_candidates(tree, rules, sp, plain)
        peak_single = resource.getrusage(resource.RUSAGE_CHILDREN).ru_maxrss * 1024
        print(
            f"peak memory: largest process {peak_single / 2**20:.0f} MiB; process tree: "
            + ", ".join(f"{n} {m / 2**20:.0f} MiB" for n, m in peaks.items())
        )
        if args.no_coccicheck:
            return 0
        dirs = scope_dirs(cold)
        swept_files = [f for d in cold["drivers"] for f in d["files"]]
        # the rules whose keywords fewer swept files hold first: within a --budget, most rules complete
        weight = {r.id: sum(r.may_match((tree / f).read_bytes()) for f in swept_files) for r in rules}
        rules = sorted(rules, key=lambda r: weight[r.id])
        ccopy = hardlink_copy(tree, work / "coccicheck")
        mode = "the rules' coccicheck mode" if args.kernel_mode else "DRMM_REFACTOR=1 (every candidate)"
        print(
            f"make coccicheck MODE=report J={args.jobs}, {mode}, each rule, M= {' '.join(dirs)}",
            flush=True,
        )
        with Peak() as peak:
            cocci, t_cocci, state = coccicheck(
                ccopy, rules, dirs, args.jobs, args.budget, not args.kernel_mode, work / "coccicheck-logs"
            )
        status = proc.run(
            ["git", "--no-optional-locks", "-c", "core.trustctime=false", "status", "--porcelain", "-uno"],
            cwd=ccopy,
            timeout=3600,
        ).stdout.strip()
        print(
            f"coccicheck total {t_cocci:.1f} s, peak tree RSS {peak.peak / 2**20:.0f} MiB; "
            f"copy left clean: {not status}"
        )
        complete = [r for r, st in state.items() if st == "complete"]
        partial = any(st == "stopped" for st in state.values()) or len(state) < len(rules)
        if partial:
            print(f"coccicheck stopped after {t_cocci:.0f} s (--budget): its time is a lower bound")
        crashed = [r for r, st in state.items() if st == "crashed"]
        if crashed:
            print(f"coccicheck failed (and lost reports) on: {', '.join(crashed)}; see the logs above")
        swept = {f for d in cold["drivers"] for f in d["files"]}
        found = findings_of(cold)
        print(f"\ncoccicheck reports {len(cocci)}; "
              f"{sum(1 for k in cocci if k[1] in swept)} in the files drmm-refactor sweeps")  # fmt: skip
        print(f"{'rule':26} {'coccicheck':>10} {'candidates':>10} {'both':>6} {'findings':>8}  "
              "coccicheck run")  # fmt: skip
        for r in rules:
            c = {k for k in cocci if k[0] == r.id and k[1] in swept}
            w = {k for k in raw if k[0] == r.id}
            f = {k for k in found if k[0] == r.id}
            print(f"{r.id:26} {len(c):10} {len(w):10} {len(c & w):6} {len(f):8}  "
                  f"{state.get(r.id, 'not run')}{'' if c == w else ' (sets differ)'}")  # fmt: skip
        ours = {k for k in found if k[0] in complete}
        raw = {k for k in raw if k[0] in complete}
        in_scope = {k for k in cocci if k[1] in swept and k[0] in complete}
        compare("coccicheck (swept files) vs raw candidates, rules it completed", in_scope, raw,
                "coccicheck", "candidates")  # fmt: skip
        compare("coccicheck (swept files) vs findings, rules it completed", in_scope, ours,
                "coccicheck", "findings")  # fmt: skip
        if not args.kernel_mode:
            print(
                f"same finding set as coccicheck (candidates, the {len(complete)} rules it completed): "
                f"{in_scope == raw}; every finding among coccicheck's reports: {ours <= in_scope}"
            )
        print("\nwall times: " + ", ".join(f"{n} {t:.1f} s" for n, t in times.items())
              + f", coccicheck {t_cocci:.1f} s")  # fmt: skip
        print(
            f"ratios: coccicheck / cold finding = {'>= ' if partial else ''}{t_cocci / times['find']:.1f}x; "
            f"coccicheck / cold plain sweep = {'>= ' if partial else ''}{t_cocci / times['cold']:.1f}x; "
            f"cold / warm plain = {times['cold'] / times['warm']:.0f}x; "
            f"cold / touched = {times['cold'] / times['touched']:.1f}x"
        )
    finally:
        if not args.keep:
            shutil.rmtree(base, ignore_errors=True)
    return 0


if __name__ == "__main__":
    sys.exit(main())
