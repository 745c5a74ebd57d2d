"""Command line: parse options, call one core function, render, map errors to exit codes."""

from __future__ import annotations

import logging
import signal
import sys
from collections.abc import Callable, Sequence
from pathlib import Path
from typing import TYPE_CHECKING

import click

from refactor import __version__
from refactor.infra import output, proc
from refactor.infra.bundled import bundled
from refactor.infra.errors import Interrupted, RefactorError
from refactor.infra.lock import tree_lock
from refactor.model import tree as model
from refactor.report import text as report

if TYPE_CHECKING:
    from refactor.generate.run import Generated
    from refactor.sweep.run import Progress, SweepResult
    from refactor.verify.run import Checked

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


def _terminate(signum: int, frame: object) -> None:
    proc.stop_all()  # spatch, make and git in worker threads stop now, not at their end
    if signum == signal.SIGINT:
        raise KeyboardInterrupt
    raise Interrupted(signum)


def _run(fn, *args):  # type: ignore[no-untyped-def]
    """Call a command's body: a RefactorError is one line on stderr and its exit status;
    Ctrl-C and SIGTERM unwind (removing worktrees and temporary files) and exit 130/143."""
    previous = signal.signal(signal.SIGTERM, _terminate)
    previous_int = signal.signal(signal.SIGINT, _terminate)
    try:
        return fn(*args)
    except RefactorError as exc:
        click.echo(f"drmm-refactor: {exc}", err=True)
        sys.exit(exc.exit_status)
    except KeyboardInterrupt:
        click.echo("drmm-refactor: interrupted", err=True)
        sys.exit(128 + signal.SIGINT)
    except Interrupted as exc:
        click.echo(f"drmm-refactor: stopped by signal {signal.Signals(exc.signum).name}", err=True)
        sys.exit(128 + exc.signum)
    finally:
        signal.signal(signal.SIGTERM, previous)
        signal.signal(signal.SIGINT, previous_int)
        proc.resume()


@click.group(context_settings={"help_option_names": ["-h", "--help"]})
@click.version_option(__version__, prog_name="drmm-refactor")
@click.option("-v", "--verbose", is_flag=True, help="Log every external command.")
def main(verbose: bool) -> None:
    """Find and fix DRM driver lifetime bugs across a Linux kernel tree."""
    logging.basicConfig(level=logging.DEBUG if verbose else logging.WARNING, format="%(message)s")


@main.command()
@click.argument("tree", required=False)
@click.option("--format", "fmt", type=click.Choice(["text", "json"]), default="text", show_default=True)
@click.option("-o", "--output", "out", type=click.Path(dir_okay=False, path_type=Path), help="Write to FILE.")
@click.option("--paths", multiple=True, help="Only modules with files under this path (repeatable).")
@click.option("--no-tests", is_flag=True, help="Leave out kunit and selftest modules.")
def drivers(tree: str | None, fmt: str, out: Path | None, paths: tuple[str, ...], no_tests: bool) -> None:
    """List the modules of TREE that create a drm_device."""

    def go() -> None:
        tm = model.load_tree(find_tree(tree), paths)
        listed = [d for d in tm.drivers if not (no_tests and d.test)]
        text = report.drivers_json(tm, listed) if fmt == "json" else report.drivers_text(tm, listed)
        output.write_text(text, out)

    _run(go)


SWEEP_FORMATS = ["text", "md", "html", "json", "sarif"]


@main.command()
@click.argument("tree", required=False)
@click.option("--format", "fmt", type=click.Choice(SWEEP_FORMATS), default="text", show_default=True)
@click.option("-o", "--output", "out", type=click.Path(dir_okay=False, path_type=Path), help="Write to FILE.")
@click.option(
    "--baseline",
    type=click.Path(dir_okay=False, path_type=Path),
    help="A previous --format json report: show only findings not in it.",
)
@click.option("--jobs", "-j", type=click.IntRange(1), default=2, show_default=True, help="spatch processes.")
@click.option("--rules", "rule_names", help="Comma-separated rule ids (default: all).")
@click.option("--rules-dir", type=click.Path(file_okay=False, path_type=Path),
              help="Read the .cocci rules from DIR instead of the package's.")  # fmt: skip
@click.option("--paths", multiple=True, help="Only modules with files under this path (repeatable).")
@click.option("--timeout", type=click.IntRange(1), default=120, show_default=True, help="Seconds per file.")
@click.option("--include-tests", is_flag=True, help="Sweep kunit and selftest modules too.")
@click.option(
    "--diff", "show_diff", is_flag=True, help="Print the patches the fixes would make, not the report."
)
@click.option("--no-patches", is_flag=True, help="Find only: generate no patches.")
@click.option(
    "--verify", "do_verify", is_flag=True, help="Verify the patches (apply, build, checkpatch, re-sweep)."
)
@click.option("--arch", default="", help="Build every patch for this architecture under --verify "
              "(default: each driver's own, from its Kconfig: x86_64, arm64 or arm).")  # fmt: skip
@click.option("--no-cache", is_flag=True, help="Recompute everything: neither read nor write the cache.")
def sweep(
    tree: str | None,
    fmt: str,
    out: Path | None,
    baseline: Path | None,
    jobs: int,
    rule_names: str | None,
    rules_dir: Path | None,
    paths: tuple[str, ...],
    timeout: int,
    include_tests: bool,
    show_diff: bool,
    no_patches: bool,
    do_verify: bool,
    arch: str,
    no_cache: bool,
) -> None:
    """Dry run: find lifetime bugs in TREE's drm drivers and the patches that fix them;
    change nothing.

    Exit status 0 when nothing (new) is found, 1 when something is, 2 on error.
    """
    from refactor.cocci import spatch as spatch_mod
    from refactor.generate import run as generate_mod
    from refactor.model import treecache
    from refactor.report import baseline as baseline_mod
    from refactor.sweep import run as sweep_mod

    if show_diff and no_patches:
        raise click.UsageError("--diff needs the patches: drop --no-patches")

    def go() -> int:
        known = baseline_mod.load(baseline) if baseline is not None else None
        names = [n for n in (rule_names or "").split(",") if n]
        rules = sweep_mod.load_rules(names, rules_dir) if rules_dir else sweep_mod.load_rules(names)
        sp = spatch_mod.find_spatch()
        loaded = treecache.load(find_tree(tree), paths, use_cache=not no_cache)
        tm = loaded.model
        line = output.ProgressLine()
        try:
            result = sweep_mod.sweep(tm, sp, rules, jobs=jobs, timeout=timeout, include_tests=include_tests,
                                     progress=_sweep_progress(line) if line.enabled else None,
                                     cache=loaded.cache)  # fmt: skip
            if not no_patches:
                line.show(f"generating patches for {len(result.findings)} findings...", force=True)
            gen = None if no_patches else generate_mod.generate(result, sp, jobs=jobs, cache=loaded.cache)
        finally:
            line.clear()
        checks = None
        if do_verify and gen is not None:
            from refactor.verify import run as verify_mod

            cands = verify_mod.candidates_of(gen, result)
            effect = verify_mod.effect_stage(sp, rules, use_cache=not no_cache)
            with tree_lock(tm.root, "sweep --verify"):
                checks, _, _ = verify_mod.verify(tm.root, cands, arch=arch, jobs=jobs, use_cache=not no_cache,
                                                 effect=effect)  # fmt: skip
        if known is not None:
            result, gen = baseline_mod.only_new(result, gen, known)
        if show_diff and gen is not None:
            text = report.patches_text(gen)
        else:
            text = _render_sweep(fmt, result, gen, checks, colour=output.use_colour(out))
        output.write_text(text, out)
        return 1 if result.findings else 0

    sys.exit(_run(go))


def _sweep_progress(line: output.ProgressLine) -> Callable[[Progress], None]:
    def show(p: Progress) -> None:
        rule = f", {p.rule}" if p.rule else ""
        line.show(f"sweep: {p.done}/{p.total} file checks, {p.drivers_done}/{p.drivers} drivers done"
                  f"{rule}, {p.seconds:.0f}s", force=p.done == p.total)  # fmt: skip

    return show


def _render_sweep(
    fmt: str, result: SweepResult, gen: Generated | None, checks: Sequence[Checked] | None, colour: bool
) -> str:
    from refactor.report import render, sarif

    if fmt == "json":
        return report.sweep_json(result, gen, checks)
    if fmt == "md":
        return render.sweep_md(result, gen, checks)
    if fmt == "html":
        return render.sweep_html(result, gen, checks)
    if fmt == "sarif":
        return sarif.sweep_sarif(result, gen, checks)
    return report.sweep_text(result, gen, checks, colour=colour)


@main.command()
@click.argument("patches", nargs=-1, required=True, type=click.Path(dir_okay=False, path_type=Path))
@click.option("--tree", "tree", help="The kernel tree the patches are for (default: the one around you).")
@click.option("--arch", default="", help="Build for this architecture (default: each driver's own, "
              "from its Kconfig: x86_64, arm64 or arm).")  # fmt: skip
@click.option("--jobs", "-j", type=click.IntRange(1), default=2, show_default=True)
@click.option("--no-cache", is_flag=True, help="Recompute build and checkpatch results.")
@click.option("--format", "fmt", type=click.Choice(["text", "json"]), default="text", show_default=True)
def check(
    patches: tuple[Path, ...], tree: str | None, arch: str, jobs: int, no_cache: bool, fmt: str
) -> None:
    """Verify PATCH files (unified diffs, -p1 at the tree root) in a scratch worktree:
    applies, builds, checkpatch, and adds no finding.  Exit 0 when all are verified."""
    from refactor.cocci import spatch as spatch_mod
    from refactor.sweep import run as sweep_mod
    from refactor.verify import run as verify_mod

    def go() -> int:
        root = find_tree(tree)
        model.check_tree(root)
        diffs = []
        for p in patches:
            try:
                diffs.append((str(p), p.read_text()))
            except (OSError, UnicodeDecodeError) as exc:
                raise RefactorError(f"cannot read {p}: {exc}") from None
        sp = spatch_mod.find_spatch()
        rules = sweep_mod.load_rules()
        cands = verify_mod.foreign_candidates(root, diffs)
        effect = verify_mod.effect_stage(sp, rules, use_cache=not no_cache)
        with tree_lock(root, "check"):
            checks, hits, seconds = verify_mod.verify(
                root, cands, arch=arch, jobs=jobs, use_cache=not no_cache, effect=effect
            )
        click.echo(report.checks_json(checks) if fmt == "json" else report.checks_text(checks, hits, seconds),
                   nl=False)  # fmt: skip
        return 0 if all(c.verdict == "verified" for c in checks) else 1

    sys.exit(_run(go))


@main.command()
@click.argument("tree", required=False)
@click.option("-o", "--output", "out", required=True, type=click.Path(file_okay=False, path_type=Path),
              help="Directory for the format-patch files.")  # fmt: skip
@click.option("--branch", help="Branch for the commits (default drmm-refactor/<date>).")
@click.option(
    "--split", type=click.Choice(["one", "per-driver", "per-rule"]), default="one", show_default=True
)
@click.option("-v", "--version", "version", type=click.IntRange(1), default=1, show_default=True,
              help="Series version (format-patch -v).")  # fmt: skip
@click.option("--reroll", is_flag=True, help="The next version of the series in DIR, with a range-diff.")
@click.option("--dry-run", is_flag=True, help="List what would be written; write nothing.")
@click.option("--include-unverified", is_flag=True, help="Also patches that failed verification, marked so.")
@click.option("--force", is_flag=True, help="Replace an existing branch of the same name.")
@click.option("--paths", multiple=True, help="Only modules with files under this path (repeatable).")
@click.option("--rules", "rule_names", help="Comma-separated rule ids (default: all).")
@click.option("--jobs", "-j", type=click.IntRange(1), default=2, show_default=True)
@click.option("--arch", default="", help="Build every patch for this architecture (default: each "
              "driver's own, from its Kconfig: x86_64, arm64 or arm).")  # fmt: skip
@click.option("--no-cache", is_flag=True, help="Recompute everything: neither read nor write the cache.")
def series(tree: str | None, out: Path, branch: str | None, split: str, version: int, reroll: bool,
           dry_run: bool, include_unverified: bool, force: bool, paths: tuple[str, ...],
           rule_names: str | None, jobs: int, arch: str, no_cache: bool) -> None:  # fmt: skip
    """Generate, verify and write the verified patches as git series: commits on a new
    branch (made in a separate worktree) and git format-patch files with a cover letter
    in OUT.  The user's checkout, index and current branch are not touched."""
    import datetime

    from refactor.cocci import spatch as spatch_mod
    from refactor.generate import run as generate_mod
    from refactor.model import treecache
    from refactor.series import bisect as bisect_mod
    from refactor.series import run as series_mod
    from refactor.sweep import run as sweep_mod
    from refactor.verify import run as verify_mod

    def go() -> int:
        root = find_tree(tree)
        model.check_tree(root)
        if not (root / ".git").exists():
            raise RefactorError(f"{root} is not a git repository: a series needs one "
                                "(cd TREE && git init && git add -f . && git commit -m base)")  # fmt: skip
        series_mod.identity(root)
        rules = sweep_mod.load_rules([n for n in (rule_names or "").split(",") if n])
        sp = spatch_mod.find_spatch()
        with tree_lock(root, "series"):
            loaded = treecache.load(root, paths, use_cache=not no_cache)
            result = sweep_mod.sweep(loaded.model, sp, rules, jobs=jobs, cache=loaded.cache)
            gen = generate_mod.generate(result, sp, jobs=jobs, cache=loaded.cache)
            cands = verify_mod.candidates_of(gen, result)
            effect = verify_mod.effect_stage(sp, rules, use_cache=not no_cache)
            checks, _, _ = verify_mod.verify(
                root, cands, arch=arch, jobs=jobs, use_cache=not no_cache, effect=effect
            )
            name = branch or f"drmm-refactor/{datetime.date.today():%Y%m%d}"
            opts = series_mod.Options(
                out, name, split, version, reroll, dry_run, include_unverified, force, arch
            )
            # every commit must build on its own in the series' order: one that does not
            # is left out (or marked, with --include-unverified) and the rest planned again
            for _ in range(4):
                planned, left_out = series_mod.plan(root, result, gen, checks, opts, sp.version_text)
                steps = bisect_mod.check(root, planned, checks, arch=arch, jobs=jobs, use_cache=not no_cache)
                marked = bisect_mod.mark(checks, steps)
                if marked == list(checks):
                    break
                checks = marked
            written = series_mod.write(root, planned, opts) if planned else []
        click.echo(bisect_mod.summary(steps) + report.series_text(written, left_out, dry_run), nl=False)
        return 0 if written else 1

    sys.exit(_run(go))


@main.command("rules")
def rules_cmd() -> None:
    """List the rule catalogue from the .cocci headers."""
    from refactor.sweep import run as sweep_mod

    def go() -> None:
        rows = [[r.id, sweep_mod.confidence(r.confidence), r.description] for r in sweep_mod.load_rules()]
        click.echo(report.table(["RULE", "CONFIDENCE", "DESCRIPTION"], rows), nl=False)

    _run(go)


@main.command()
@click.argument("rule")
def explain(rule: str) -> None:
    """What RULE finds, why it is a bug, the fix, and an example from the corpus."""
    from refactor.report import explain as explain_mod

    def go() -> None:
        click.echo(explain_mod.explain(rule), nl=False)

    _run(go)
