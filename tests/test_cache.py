"""The sweep's cache on the corpus: what a second sweep, a touched file, a changed rule,
--no-cache and a corrupt entry recompute (counted by the files handed to spatch)."""

from __future__ import annotations

import shutil
from collections.abc import Sequence
from pathlib import Path

import pytest
from click.testing import CliRunner

from refactor.cli import main
from refactor.cocci.rules import Rule
from refactor.cocci.spatch import Spatch
from refactor.infra import cache, proc
from refactor.model import tree as model
from refactor.model import treecache
from refactor.sweep import run as sweep


@pytest.fixture(autouse=True)
def _own_cache(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Path:
    root = tmp_path / "cache"
    monkeypatch.setenv("DRMM_REFACTOR_CACHE", str(root))
    return root


@pytest.fixture()
def runs(monkeypatch: pytest.MonkeyPatch) -> list[tuple[str, str]]:
    """(rule, file) of every file check handed to spatch by the sweep."""
    seen: list[tuple[str, str]] = []
    real = sweep.run_rules

    def counting(sp: Spatch, work: Sequence[tuple[Rule, Sequence[str]]], **kw):  # type: ignore[no-untyped-def]
        seen.extend((r.id, f) for r, files in work for f in files)
        return real(sp, work, **kw)

    monkeypatch.setattr(sweep, "run_rules", counting)
    return seen


@pytest.fixture()
def tree(tmp_path: Path, corpus_tree: Path) -> Path:
    """A copy of the corpus that a test may change."""
    dst = tmp_path / "tree"
    shutil.copytree(corpus_tree, dst)
    return dst


def _sweep(root: Path, spatch: Spatch, rules: Sequence[Rule] | None = None, use_cache: bool = True):  # type: ignore[no-untyped-def]
    loaded = treecache.load(root, use_cache=use_cache)
    return sweep.sweep(loaded.model, spatch, rules or sweep.load_rules(), cache=loaded.cache)


def _facts(result) -> list[tuple[object, ...]]:  # type: ignore[no-untyped-def]
    return [
        (f.id, f.rule, f.driver, f.file, f.line, f.function, f.message, f.fix, f.data)
        for f in result.findings
    ]


def test_second_sweep_is_read_from_the_cache(corpus_tree: Path, spatch: Spatch, runs: list) -> None:
    first = _sweep(corpus_tree, spatch)
    assert runs and first.cache_hits == 0
    runs.clear()
    second = _sweep(corpus_tree, spatch)
    assert runs == []
    assert second.cache_hits == len(second.drivers)
    assert _facts(second) == _facts(first) and second.skipped == first.skipped
    plain = sweep.sweep(model.load_tree(corpus_tree), spatch, sweep.load_rules())
    assert _facts(plain) == _facts(first)


def test_touched_file_alone_is_recomputed(tree: Path, spatch: Spatch, runs: list) -> None:
    _sweep(tree, spatch)
    runs.clear()
    touched = "drivers/gpu/drm/tiny/putpanel.c"
    text = (tree / touched).read_text()
    # a line added at the top: every finding of the file moves down by one
    (tree / touched).write_text("/* touched */\n" + text)
    again = _sweep(tree, spatch)
    assert runs and {f for _, f in runs} == {touched}
    fresh = sweep.sweep(model.load_tree(tree), spatch, sweep.load_rules())
    assert _facts(again) == _facts(fresh)
    puts = sorted(f.line for f in again.findings if f.rule == "double-put")
    assert puts == [28, 41]
    assert again.cache_hits >= len(again.drivers) - 1
    # the incremental model is the model
    assert treecache.load(tree).model.drivers == model.load_tree(tree).drivers


def test_no_cache_recomputes(corpus_tree: Path, spatch: Spatch, runs: list, _own_cache: Path) -> None:
    _sweep(corpus_tree, spatch)
    before = sorted(p for p in _own_cache.rglob("*") if p.is_file())
    count = len(runs)
    runs.clear()
    res = CliRunner().invoke(main, ["sweep", str(corpus_tree), "--no-patches", "--no-cache"])
    assert res.exit_code == 1, res.output
    assert len(runs) == count
    assert sorted(p for p in _own_cache.rglob("*") if p.is_file()) == before  # nothing written


def test_corrupt_entries_are_discarded_and_recomputed(
    corpus_tree: Path, spatch: Spatch, runs: list, _own_cache: Path
) -> None:
    first = _sweep(corpus_tree, spatch)
    entries = sorted(p for sub in cache.PRUNED for p in (_own_cache / sub).rglob("*") if p.is_file())
    for i, p in enumerate(entries):  # truncated, flipped, or not a cache entry at all
        data = p.read_bytes()
        p.write_bytes([data[: len(data) // 2], data[:-1] + bytes([data[-1] ^ 1]), b"garbage"][i % 3])
    runs.clear()
    again = _sweep(corpus_tree, spatch)
    assert len(runs) == len({(r, f) for r, f in runs}) > 0
    assert _facts(again) == _facts(first)
    runs.clear()
    assert _facts(_sweep(corpus_tree, spatch)) == _facts(first) and runs == []


def test_store_discards_a_corrupt_entry(tmp_path: Path) -> None:
    store = cache.Store(tmp_path / "s")
    store.put("ab" * 32, {"x": 1})
    assert store.get("ab" * 32) == {"x": 1}
    path = store.path("ab" * 32)
    path.write_bytes(path.read_bytes()[:-3])
    assert store.get("ab" * 32) is None
    assert store.discarded == 1 and not path.exists()


def test_rule_text_change_invalidates_that_rule(
    tmp_path: Path, corpus_tree: Path, spatch: Spatch, runs: list
) -> None:
    rules_dir = tmp_path / "rules"
    shutil.copytree(sweep.RULES_DIR, rules_dir)
    first = _sweep(corpus_tree, spatch, sweep.load_rules(directory=rules_dir))
    runs.clear()
    changed = rules_dir / "double-put.cocci"
    changed.write_text(changed.read_text() + "\n// a comment changes the rule's text\n")
    again = _sweep(corpus_tree, spatch, sweep.load_rules(directory=rules_dir))
    assert runs and {r for r, _ in runs} == {"double-put"}
    assert _facts(again) == _facts(first)


def test_snapshot_sees_changes_and_hard_links(tmp_path: Path) -> None:
    src = tmp_path / "a"
    (src / "drivers").mkdir(parents=True)
    for n in ("x.c", "y.c"):
        (src / "drivers" / n).write_text(n)
    old = cache.snapshot(src)
    old.digests(["drivers/x.c", "drivers/y.c"])
    assert cache.snapshot(src).carry(old) == set()
    # a copy made of hard links: another tree, the same files
    copy = tmp_path / "b"
    assert proc.run(["cp", "-al", str(src), str(copy)]).ok
    assert cache.snapshot(copy).carry(old) == set()
    (src / "drivers" / "y.c").write_text("changed")
    (src / "drivers" / "z.c").write_text("new")
    assert cache.snapshot(src).carry(old) == {"drivers/y.c", "drivers/z.c"}


def test_prune_removes_entries_unused_for_a_month(tmp_path: Path) -> None:
    import os
    import time

    root = tmp_path / "cache"
    store = cache.Store(root / "sweep")
    store.put("aa" * 32, "old")
    store.put("bb" * 32, "used")
    store.put("cc" * 32, "fresh")
    now = time.time()
    month_ago = now - 31 * 86400
    for key in ("aa" * 32, "bb" * 32):
        os.utime(store.path(key), (month_ago, month_ago))
    assert store.get("bb" * 32) == "used"  # a hit marks the entry as used
    assert cache.prune(root, now=now) == 1
    assert store.get("aa" * 32) is None
    assert (store.get("bb" * 32), store.get("cc" * 32)) == ("used", "fresh")
    # at most once a day: an entry that ages now is kept until tomorrow's prune
    os.utime(store.path("cc" * 32), (month_ago, month_ago))
    assert cache.prune(root, now=now + 3600) == 0
    assert cache.prune(root, now=now + 2 * 86400) == 1
    assert store.get("cc" * 32) is None


def test_verification_results_are_checked_and_pruned_with_the_rest(tmp_path: Path) -> None:
    """The verification's results (compiles, checkpatch, proofs) are Store entries: a
    corrupt one is discarded, an unused one is pruned like the sweep's."""
    import os
    import time

    from refactor.verify.build import ResultCache

    root = tmp_path / "cache"
    results = ResultCache(root / "results")
    value = {"ok": True, "log": "", "error": "", "warnings": []}
    results.put("dd" * 32, value)
    results.put("ee" * 32, value)
    assert results.get("dd" * 32) == value and results.hits == 1
    path = results.path("dd" * 32)
    path.write_bytes(path.read_bytes()[:-1] + b"x")  # one byte changed
    assert results.get("dd" * 32) is None and results.discarded == 1 and not path.exists()
    month_ago = time.time() - 31 * 86400
    os.utime(results.path("ee" * 32), (month_ago, month_ago))
    assert cache.prune(root) == 1
    assert results.get("ee" * 32) is None


# -- generated patches ------------------------------------------------------------------


@pytest.fixture()
def patch_runs(monkeypatch: pytest.MonkeyPatch) -> list[tuple[str, tuple[str, ...]]]:
    """(rule, files) of every patch-mode spatch run of the generator."""
    from refactor.generate import run as generate

    seen: list[tuple[str, tuple[str, ...]]] = []
    real = generate.apply_rule

    def counting(sp: Spatch, rule: Rule, files: Sequence[str], **kw):  # type: ignore[no-untyped-def]
        seen.append((rule.id, tuple(files)))
        return real(sp, rule, files, **kw)

    monkeypatch.setattr(generate, "apply_rule", counting)
    return seen


def _generate(root: Path, spatch: Spatch, use_cache: bool = True, paths: Sequence[str] = ()):  # type: ignore[no-untyped-def]
    from refactor.generate import run as generate

    loaded = treecache.load(root, paths, use_cache=use_cache)
    result = sweep.sweep(loaded.model, spatch, sweep.load_rules(), cache=loaded.cache)
    return generate.generate(result, spatch, cache=loaded.cache)


def _made(gen) -> tuple[object, ...]:  # type: ignore[no-untyped-def]
    return gen.patches, gen.refused


def test_second_plain_sweep_runs_no_patch_step(corpus_tree: Path, spatch: Spatch, patch_runs: list) -> None:
    first = _generate(corpus_tree, spatch)
    assert patch_runs and first.patches and first.cache_hits == 0
    patch_runs.clear()
    second = _generate(corpus_tree, spatch)
    assert patch_runs == []
    found = sweep.sweep(model.load_tree(corpus_tree), spatch, sweep.load_rules()).findings
    assert second.cache_hits == len({f.driver for f in found}) > 1
    assert _made(second) == _made(first)
    assert _made(_generate(corpus_tree, spatch, use_cache=False)) == _made(first)
    # the CLI's default sweep: patches from the cache, the same report
    docs = [CliRunner().invoke(main, ["sweep", str(corpus_tree), "--format", "json"]) for _ in range(2)]
    assert [r.exit_code for r in docs] == [1, 1]
    import json

    a, b = (json.loads(r.output) for r in docs)
    assert a["patches"] == b["patches"] and a["findings"] == b["findings"] and a["patches"]
    assert b["stats"]["patch_cache_hits"] == len({f["driver"] for f in b["findings"]})


def test_touched_driver_alone_regenerates(tree: Path, spatch: Spatch, patch_runs: list) -> None:
    first = _generate(tree, spatch)
    drivers = {f.driver for f in sweep.sweep(model.load_tree(tree), spatch, sweep.load_rules()).findings}
    touched = "drivers/gpu/drm/tiny/putpanel.c"
    mine = next(p.driver for p in first.patches if touched in p.files)
    patch_runs.clear()
    (tree / touched).write_text("/* touched */\n" + (tree / touched).read_text())
    again = _generate(tree, spatch)
    assert patch_runs and all(f == touched for _, files in patch_runs for f in files)
    assert again.cache_hits == len(drivers) - 1
    assert _made(again) == _made(_generate(tree, spatch, use_cache=False))
    assert [p for p in again.patches if p.driver != mine] == [p for p in first.patches if p.driver != mine]
    assert [p.diff for p in again.patches if p.driver == mine] != [
        p.diff for p in first.patches if p.driver == mine
    ]  # its hunks moved down a line


def test_corrupt_patch_entries_are_recomputed(
    corpus_tree: Path, spatch: Spatch, patch_runs: list, _own_cache: Path
) -> None:
    first = _generate(corpus_tree, spatch)
    count = len(patch_runs)
    for p in sorted((_own_cache / "sweep").rglob("*")):
        if p.is_file():
            p.write_bytes(p.read_bytes()[:-1])  # every entry truncated: findings and patches
    patch_runs.clear()
    again = _generate(corpus_tree, spatch)
    assert len(patch_runs) == count and again.cache_hits == 0
    assert _made(again) == _made(first)
    patch_runs.clear()
    assert _made(_generate(corpus_tree, spatch)) == _made(first) and patch_runs == []


def test_a_file_the_planner_read_is_checked(corpus_tree: Path, spatch: Spatch) -> None:
    """An entry records the files the planner asked for beyond its key, with their
    contents; one of them changed, the entry is not used."""
    from refactor.generate.run import _Made

    loaded = treecache.load(corpus_tree)
    assert loaded.cache is not None
    entry = _Made((), (), (), (("drivers/gpu/drm/tiny/putpanel.c", "0" * 64),))  # not its hash
    assert not loaded.cache.deps_hold(entry.deps)
    rel = "drivers/gpu/drm/tiny/putpanel.c"
    assert loaded.cache.deps_hold(((rel, loaded.cache.snap.digest_of(rel)),))


def test_a_paths_run_does_not_decide_a_whole_run(corpus_tree: Path, spatch: Spatch) -> None:
    """A --paths run that leaves out the other drivers of a shared directory plans with
    less knowledge (a component's master is not in its lifetime model): what it stores
    is not what a run over the whole tree reuses."""
    alone = _generate(corpus_tree, spatch, paths=["drivers/gpu/drm/scopedisp/quietdisp.c"])
    assert {p.driver for p in alone.patches} | {o.finding.split(":")[0] for o in alone.refused}
    whole = _generate(corpus_tree, spatch)
    assert _made(whole) == _made(_generate(corpus_tree, spatch, use_cache=False))
