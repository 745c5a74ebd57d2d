"""Command line: parse options, call one core function, render, map errors to exit codes."""

from __future__ import annotations

import logging
import sys
from pathlib import Path

import click

from refactor import __version__, model, output, report
from refactor.errors import RefactorError

CORPUS_TREE = Path(__file__).resolve().parent.parent / "corpus" / "tree"


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


def _run(fn, *args):  # type: ignore[no-untyped-def]
    try:
        return fn(*args)
    except RefactorError as exc:
        click.echo(f"drmm-refactor: {exc}", err=True)
        sys.exit(exc.exit_status)
    except KeyboardInterrupt:
        click.echo("drmm-refactor: interrupted", err=True)
        sys.exit(130)


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
