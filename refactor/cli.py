"""Command line: parse options into a configuration, call the pipeline (`pipeline.py`, which
owns the stage order), render what it returns, map errors to exit codes."""

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
from refactor.infra.errors import Interrupted, RefactorError
from refactor.report import text as report

if TYPE_CHECKING:
    from refactor.generate.run import Generated
    from refactor.sweep.run import Progress, SweepResult
    from refactor.verify.checked import Checked


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
        from refactor import pipeline  # in go(): a signal while it loads unwinds as any other

        tm, listed = pipeline.drivers(tree, paths, no_tests)
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
    if show_diff and no_patches:
        raise click.UsageError("--diff needs the patches: drop --no-patches")

    def go() -> int:
        from refactor import pipeline  # in go(): a signal while it loads unwinds as any other

        config = pipeline.SweepConfig(
            tree,
            paths,
            tuple(n for n in (rule_names or "").split(",") if n),
            rules_dir,
            jobs,
            timeout,
            include_tests,
            not no_patches,
            do_verify,
            arch,
            not no_cache,
            baseline,
        )
        line = output.ProgressLine()
        hooks = pipeline.Hooks(_sweep_progress(line) if line.enabled else None,
                               lambda text: line.show(text, force=True), line.clear)  # fmt: skip
        run = pipeline.sweep(config, hooks)
        if show_diff and run.generated is not None:
            text = report.patches_text(run.generated)
        else:
            text = _render_sweep(fmt, run.result, run.generated, run.checks, colour=output.use_colour(out))
        output.write_text(text, out)
        return 1 if run.result.findings else 0

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

    def go() -> int:
        from refactor import pipeline  # in go(): a signal while it loads unwinds as any other

        run = pipeline.check(pipeline.CheckConfig(patches, tree, arch, jobs, not no_cache))
        click.echo(report.checks_json(run.checks) if fmt == "json"
                   else report.checks_text(run.checks, run.cache_hits, run.seconds), nl=False)  # fmt: skip
        return 0 if all(c.verdict == "verified" for c in run.checks) else 1

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
    names = tuple(n for n in (rule_names or "").split(",") if n)

    def go() -> int:
        from refactor import pipeline  # in go(): a signal while it loads unwinds as any other
        from refactor.series import bisect as bisect_mod
        from refactor.series import commits as series_commits

        config = pipeline.SeriesConfig(tree, out, branch, split, version, reroll, dry_run, include_unverified,
                                       force, paths, names, jobs, arch, not no_cache)  # fmt: skip
        run = pipeline.series(config)
        text = bisect_mod.summary(run.steps) + series_commits.series_text(run.written, run.left_out, dry_run)
        click.echo(text, nl=False)
        return 0 if run.written else 1

    sys.exit(_run(go))


@main.command()
@click.argument("tree", required=False)
@click.option("--driver", "drivers", multiple=True, required=True,
              help="A driver (module name) to prove under QEMU (repeatable).")  # fmt: skip
@click.option("--format", "fmt", type=click.Choice(["text", "json"]), default="text", show_default=True)
@click.option("-o", "--output", "out", type=click.Path(dir_okay=False, path_type=Path), help="Write to FILE.")
@click.option("--jobs", "-j", type=click.IntRange(1), default=2, show_default=True)
def prove(tree: str | None, drivers: tuple[str, ...], fmt: str, out: Path | None, jobs: int) -> None:
    """Run each patch of the DRIVERs at run time: build TREE's kernel with KASAN and lockdep,
    boot it under QEMU with the driver's device, unbind it under an open fd, and compare the
    kernel's reports before and after the patch.  Exit 0 when no patch gives report-after."""

    def go() -> int:
        from refactor import pipeline  # in go(): a signal while it loads unwinds as any other
        from refactor.model import tree as model
        from refactor.prove import stage

        root = pipeline.find_tree(tree)
        model.check_tree(root)
        result = stage.prove(root, drivers, jobs=jobs, say=lambda m: click.echo(m, err=True))
        output.write_text(stage.as_json(result) if fmt == "json" else stage.as_text(result), out)
        return 1 if any(p.verdict == "report-after" for p in result.proofs) else 0

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
