"""The stage order, in one place: a frozen configuration in, a frozen result out.

    sweep:  tree model (cached) -> sweep -> generate -> verify (with --verify) -> baseline
    check:  the given patches -> verify
    series: sweep -> generate -> verify -> series plan -> bisectability -> write

The command line (`cli.py`) parses options into a configuration, calls one function of
this module and renders what it returns; nothing here prints.  A terminal's progress
line is driven through `Progress` callbacks, so the stages stay silent too.
"""

from __future__ import annotations

import datetime
from collections.abc import Callable, Sequence
from dataclasses import dataclass, field
from pathlib import Path

from refactor.cocci import spatch as spatch_mod
from refactor.generate import run as generate_mod
from refactor.generate.run import Generated, Patch
from refactor.infra.bundled import bundled
from refactor.infra.errors import RefactorError
from refactor.infra.git import is_repo
from refactor.infra.lock import tree_lock
from refactor.model import tree as model
from refactor.model import treecache
from refactor.model.tree import Driver, TreeModel
from refactor.report import baseline as baseline_mod
from refactor.series import bisect as bisect_mod
from refactor.series import history
from refactor.series import run as series_mod
from refactor.series.commits import Options, Written
from refactor.sweep import run as sweep_mod
from refactor.sweep.run import Progress, SweepResult
from refactor.verify import run as verify_mod
from refactor.verify.candidates import candidates_of, foreign_candidates
from refactor.verify.checked import Checked
from refactor.verify.effect import effect_stage

CORPUS_TREE = bundled("corpus", "tree")


def find_tree(tree: str | None) -> Path:
    """TREE if given; else the kernel tree around the current directory; else the corpus."""
    if tree is not None:
        return Path(tree)
    here = Path.cwd()
    for candidate in (here, *here.parents):
        if (candidate / "Makefile").is_file() and (candidate / "drivers/gpu/drm").is_dir():
            try:
                model.tree_version(candidate)
                return candidate
            except RefactorError:
                continue
    if CORPUS_TREE.is_dir():
        return CORPUS_TREE
    raise RefactorError("no TREE given, not inside a kernel tree, and no bundled corpus found")


def _ignore(*args: object) -> None:
    return None


@dataclass(frozen=True)
class Hooks:
    """How a run shows where it is (a terminal's progress line); silent by default."""

    sweep: Callable[[Progress], None] | None = None  # file checks done (from worker threads)
    status: Callable[[str], None] = _ignore  # a stage starts
    done: Callable[[], None] = _ignore  # the long stages are over: clear the line


# -- drivers, rules ---------------------------------------------------------------------
def drivers(tree: str | None, paths: Sequence[str], no_tests: bool) -> tuple[TreeModel, list[Driver]]:
    """The tree's model and the modules that create a drm_device (without kunit and
    selftest modules with `no_tests`)."""
    tm = model.load_tree(find_tree(tree), paths)
    return tm, [d for d in tm.drivers if not (no_tests and d.test)]


# -- sweep --------------------------------------------------------------------------------
@dataclass(frozen=True)
class SweepConfig:
    tree: str | None  # None: the tree around the current directory, else the corpus
    paths: tuple[str, ...] = ()
    rules: tuple[str, ...] = ()  # rule ids; () for all
    rules_dir: Path | None = None
    jobs: int = 2
    timeout: int = 120
    include_tests: bool = False
    patches: bool = True
    verify: bool = False
    arch: str = ""
    use_cache: bool = True
    baseline: Path | None = None  # a previous JSON report: keep only what is new


@dataclass(frozen=True)
class SweepRun:
    result: SweepResult
    generated: Generated | None  # None with patches=False
    checks: tuple[Checked, ...] | None  # None without verify


def sweep(config: SweepConfig, show: Hooks = Hooks()) -> SweepRun:
    """The dry run: findings, the patches that fix them and (with `verify`) their
    verdicts, narrowed to what the baseline does not know."""
    known = baseline_mod.load(config.baseline) if config.baseline is not None else None
    names = list(config.rules)
    rules = sweep_mod.load_rules(names, config.rules_dir) if config.rules_dir else sweep_mod.load_rules(names)
    sp = spatch_mod.find_spatch()
    loaded = treecache.load(find_tree(config.tree), config.paths, use_cache=config.use_cache)
    tm = loaded.model
    try:
        result = sweep_mod.sweep(tm, sp, rules, jobs=config.jobs, timeout=config.timeout,
                                 include_tests=config.include_tests, progress=show.sweep,
                                 cache=loaded.cache)  # fmt: skip
        if config.patches:
            show.status(f"generating patches for {len(result.findings)} findings...")
        gen = None if not config.patches else generate_mod.generate(result, sp, jobs=config.jobs,
                                                                    cache=loaded.cache)  # fmt: skip
    finally:
        show.done()
    checks = None
    if config.verify and gen is not None:
        cands = candidates_of(gen, result)
        effect = effect_stage(sp, rules, use_cache=config.use_cache)
        with tree_lock(tm.root, "sweep --verify"):
            checks, _, _ = verify_mod.verify(tm.root, cands, arch=config.arch, jobs=config.jobs,
                                             use_cache=config.use_cache, effect=effect)  # fmt: skip
    if known is not None:
        result, gen = baseline_mod.only_new(result, gen, known)
    return SweepRun(result, gen, tuple(checks) if checks is not None else None)


# -- check ------------------------------------------------------------------------------------
@dataclass(frozen=True)
class CheckConfig:
    patches: tuple[Path, ...]
    tree: str | None = None
    arch: str = ""
    jobs: int = 2
    use_cache: bool = True


@dataclass(frozen=True)
class CheckRun:
    checks: tuple[Checked, ...]
    cache_hits: int
    seconds: float


def check(config: CheckConfig) -> CheckRun:
    """Verify patch files from anywhere in a scratch worktree of the tree."""
    root = find_tree(config.tree)
    model.check_tree(root)
    diffs = []
    for p in config.patches:
        try:
            diffs.append((str(p), p.read_text()))
        except (OSError, UnicodeDecodeError) as exc:
            raise RefactorError(f"cannot read {p}: {exc}") from None
    sp = spatch_mod.find_spatch()
    rules = sweep_mod.load_rules()
    cands = foreign_candidates(root, diffs)
    effect = effect_stage(sp, rules, use_cache=config.use_cache)
    with tree_lock(root, "check"):
        checks, hits, seconds = verify_mod.verify(
            root, cands, arch=config.arch, jobs=config.jobs, use_cache=config.use_cache, effect=effect
        )
    return CheckRun(tuple(checks), hits, seconds)


# -- series -------------------------------------------------------------------------------
@dataclass(frozen=True)
class SeriesConfig:
    tree: str | None
    out: Path
    branch: str | None = None  # default drmm-refactor/<date>
    split: str = "one"
    version: int = 1
    reroll: bool = False
    dry_run: bool = False
    include_unverified: bool = False
    force: bool = False
    paths: tuple[str, ...] = ()
    rules: tuple[str, ...] = ()
    jobs: int = 2
    arch: str = ""
    use_cache: bool = True


@dataclass(frozen=True)
class SeriesRun:
    written: tuple[Written, ...]
    left_out: tuple[tuple[Patch, str], ...]  # the patches in no series, with why
    steps: tuple[bisect_mod.Step, ...] = field(default=())  # the bisectability check


def series(config: SeriesConfig) -> SeriesRun:
    """Sweep, generate, verify, and write the verified patches as git series."""
    root = find_tree(config.tree)
    model.check_tree(root)
    if not is_repo(root):
        raise RefactorError(f"{root} is not a git repository: a series needs one "
                            "(cd TREE && git init && git add -f . && git commit -m base)")  # fmt: skip
    history.identity(root)
    rules = sweep_mod.load_rules(list(config.rules))
    sp = spatch_mod.find_spatch()
    use_cache, jobs, arch = config.use_cache, config.jobs, config.arch
    with tree_lock(root, "series"):
        loaded = treecache.load(root, config.paths, use_cache=use_cache)
        result = sweep_mod.sweep(loaded.model, sp, rules, jobs=jobs, cache=loaded.cache)
        gen = generate_mod.generate(result, sp, jobs=jobs, cache=loaded.cache)
        cands = candidates_of(gen, result)
        effect = effect_stage(sp, rules, use_cache=use_cache)
        checks, _, _ = verify_mod.verify(root, cands, arch=arch, jobs=jobs, use_cache=use_cache,
                                         effect=effect)  # fmt: skip
        name = config.branch or f"drmm-refactor/{datetime.date.today():%Y%m%d}"
        opts = Options(config.out, name, config.split, config.version, config.reroll,
                                  config.dry_run, config.include_unverified, config.force, arch)  # fmt: skip
        # every commit must build on its own in the series' order: one that does not
        # is left out (or marked, with --include-unverified) and the rest planned again
        for _ in range(4):
            planned, left_out = series_mod.plan(root, result, gen, checks, opts, sp.version_text)
            steps = bisect_mod.check(root, planned, checks, arch=arch, jobs=jobs, use_cache=use_cache)
            marked = bisect_mod.mark(checks, steps)
            if marked == list(checks):
                break
            checks = marked
        written = series_mod.write(root, planned, opts) if planned else []
    return SeriesRun(tuple(written), tuple(left_out), tuple(steps))
