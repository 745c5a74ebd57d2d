"""irq-outlives-unbind and the devm-irq family: the corpus's irqdisp drivers (each a shape
of a handler that outlives unbind, or of one that does not), the IRQ lifetime model on
small sources, the plan and its refusals, and the family's invariant."""

from __future__ import annotations

import shutil
from pathlib import Path

import pytest

from refactor.classify import irq
from refactor.classify.lifetime import Module
from refactor.cocci.spatch import Spatch
from refactor.families.devm_irq import parent_of
from refactor.generate.run import generate
from refactor.invariants import checks as invariants
from refactor.model.tree import load_tree
from refactor.sweep.run import load_rules, sweep

DRM = "drivers/gpu/drm"
IRQDISP = f"{DRM}/irqdisp"


@pytest.fixture(scope="module")
def swept(corpus_tree: Path, spatch: Spatch):  # type: ignore[no-untyped-def]
    return sweep(load_tree(corpus_tree, [IRQDISP]), spatch, load_rules(["irq-outlives-unbind"]), jobs=2)


def _marked(corpus_tree: Path, kind: str) -> set[tuple[str, int]]:
    out = set()
    for path in sorted((corpus_tree / IRQDISP).glob("*.c")):
        lines = path.read_text().splitlines()
        out |= {(f"{IRQDISP}/{path.name}", i + 2) for i, x in enumerate(lines)
                if x.strip() == f"// {kind}: irq-outlives-unbind"}  # fmt: skip
    return out


def test_findings_are_the_marked_requests(swept, corpus_tree: Path) -> None:  # type: ignore[no-untyped-def]
    got = {(f.file, f.line) for f in swept.findings}
    assert got == _marked(corpus_tree, "expect")
    assert len(got) == 4
    assert not got & _marked(corpus_tree, "ok")


def test_confidence_and_messages_follow_the_shape(swept) -> None:  # type: ignore[no-untyped-def]
    by = {f.driver: f for f in swept.findings}
    assert {d: f.confidence for d, f in by.items()} == {"irqnever": "high", "irqunwind": "high",
                                                        "irqlate": "medium", "irqwait": "high"}  # fmt: skip
    assert by["irqnever"].message == (
        "request_irq() registers irqnever_irq_handler() with dev_id drm (the drm_device), which is never "
        "freed: the handler stays on the line after unbind and, once the final drm_dev_put() frees the "
        "drm_device and the struct irqnever that embeds it, reads freed memory"
    )
    assert "freed only on probe's error path (irqunwind_probe(), drivers/gpu/drm/irqdisp/irqunwind.c:50)" in (
        by["irqunwind"].message
    )
    assert (
        "freed only at the final drm_dev_put() (irqlate_release(), drivers/gpu/drm/irqdisp/irqlate.c:37)"
        in (by["irqlate"].message)
    )
    assert by["irqlate"].fix == (
        "free it on the removal path: request it with devm_request_threaded_irq() on "
        "the parent device and drop the free_irq() from irqlate_release()"
    )


def test_only_the_never_freed_irq_gets_a_patch(swept, spatch: Spatch) -> None:  # type: ignore[no-untyped-def]
    gen = generate(swept, spatch, jobs=2)
    (patch,) = gen.patches
    assert (patch.driver, patch.family) == ("irqnever", "devm-irq")
    assert "+\tret = devm_request_irq(drm->dev, in->irq, irqnever_irq_handler, IRQF_SHARED,\n" in patch.diff
    assert "-\tret = request_irq(in->irq, irqnever_irq_handler, IRQF_SHARED, drm->driver->name, drm);\n" in (
        patch.diff
    )
    by_id = {f.id: f.driver for f in swept.findings}
    reasons = {by_id[r.finding]: r.reason for r in gen.refused}
    assert set(reasons) == {"irqlate", "irqunwind", "irqwait"}
    # the release path waits on a queue the handler wakes through its work item: devres
    # freeing the IRQ at unbind would leave that wait to time out (qxl on 7.2, seen by prove)
    assert reasons["irqwait"] == (
        "irqwait_device_fini() (drivers/gpu/drm/irqdisp/irqwait.c:60), reached from the drm_device's "
        "release, waits on returned, which irqwait_irq_handler() signals: with the IRQ freed at unbind "
        "that wait times out at the last close and what it waits for stays undone; move that teardown "
        "to the removal path first, by hand"
    )
    assert reasons["irqlate"].startswith(
        "free_irq() in irqlate_release() (drivers/gpu/drm/irqdisp/irqlate.c:37) "
        "frees it at the final drm_dev_put();"
    )
    assert (
        "on probe's error path; with devm_request_irq() devres would free it a second time"
        in (reasons["irqunwind"])
    )


def _module(tmp_path: Path, source: str) -> Module:
    return Module({f"{DRM}/x/x.c": source.encode()})


_HEAD = """
struct x { struct drm_device drm; int irq; };
static irqreturn_t x_irq(int irq, void *arg) { return IRQ_HANDLED; }
"""
_PROBE = """
static int x_probe(struct platform_device *pdev)
{
	struct x *p = devm_drm_dev_alloc(&pdev->dev, &x_driver, struct x, drm);
	int ret;

	ret = request_irq(p->irq, x_irq, 0, "x", p);
	%s
	return ret;
}
static struct platform_driver x_pdrv = { .probe = x_probe, .remove = x_remove };
"""


@pytest.mark.parametrize(("extra", "probe_tail", "shape", "paths"), [
    ("static void x_remove(struct platform_device *pdev) { }", "", "never", []),
    ("static void x_fini(struct x *p) { free_irq(p->irq, p); }\n"
     "static void x_remove(struct platform_device *pdev) { struct x *p = platform_get_drvdata(pdev); "
     "x_fini(p); }", "", "", ["removal"]),
    ("static void x_release(struct drm_device *drm) { struct x *p = to_x(drm); free_irq(p->irq, p); }\n"
     "static const struct drm_driver x_driver = { .release = x_release };\n"
     "static void x_remove(struct platform_device *pdev) { }", "", "release", ["release"]),
    ("static void x_free(void *data) { struct x *p = data; free_irq(p->irq, p); }\n"
     "static void x_remove(struct platform_device *pdev) { }",
     "ret = devm_add_action_or_reset(&pdev->dev, x_free, p);", "", ["devm-action"]),
    ("static void x_remove(struct platform_device *pdev) { }",
     "if (ret) free_irq(p->irq, p);", "never", ["probe"]),
])  # fmt: skip
def test_where_the_irq_is_freed(tmp_path: Path, extra: str, probe_tail: str, shape: str,
                                paths: list[str]) -> None:  # fmt: skip
    m = _module(tmp_path, _HEAD + extra + _PROBE % probe_tail)
    (req,) = irq.requests(m)
    assert (req.call, req.dev_id, req.memory, req.data) == ("request_irq", "p", "drm-device", "struct x")
    got, found = irq.outlives(m, req)
    assert (got, [f.path for f in found]) == (shape, paths)


def test_devm_request_and_foreign_data_are_not_drm_lifetime(tmp_path: Path) -> None:
    m = _module(
        tmp_path,
        _HEAD
        + "struct y { int irq; };\n"
        + """
static int x_probe(struct platform_device *pdev)
{
	struct x *p = devm_drm_dev_alloc(&pdev->dev, &x_driver, struct x, drm);
	struct y *q = devm_kzalloc(&pdev->dev, sizeof(*q), GFP_KERNEL);

	request_irq(q->irq, x_irq, 0, "y", q);
	return devm_request_irq(&pdev->dev, p->irq, x_irq, 0, "x", &p->drm);
}
""",
    )
    reqs = irq.requests(m, (*irq.REQUESTS, *irq.DEVM_REQUESTS))
    assert [(r.call, r.memory) for r in reqs] == [("request_irq", "devm"), ("devm_request_irq", "drm")]
    assert not reqs[0].drm_lifetime
    assert irq.outlives(m, reqs[1]) == ("", [])


def test_parent_of_a_drm_expression() -> None:
    assert parent_of("ddev") == "ddev->dev"
    assert parent_of("&qdev->ddev") == "qdev->ddev.dev"
    assert parent_of("& p -> drm") == "p->drm.dev"


def _change(tmp_path: Path, corpus_tree: Path, name: str, edits: list[tuple[str, str]]) -> invariants.Change:
    root = tmp_path / "tree"
    shutil.copytree(corpus_tree / IRQDISP, root / IRQDISP)
    rel = f"{IRQDISP}/{name}"
    before = after = (root / rel).read_text()
    for old, new in edits:
        assert old in after, old
        after = after.replace(old, new, 1)
    (root / rel).write_text(after)
    return invariants.Change(
        "p", name[:-2], "devm-irq", (rel,), {rel: before}, {rel: after}, (IRQDISP,), root
    )


def _reasons(change: invariants.Change) -> list[str]:
    return [f"{v.invariant}: {v.reason}" for v in invariants.check(change)]


def test_golden_devm_irq_patch_keeps_the_invariants(tmp_path: Path, corpus_tree: Path) -> None:
    repo = Path(__file__).resolve().parent.parent
    golden = (repo / "corpus/golden" / IRQDISP / "irqnever.res").read_text()
    old = (corpus_tree / IRQDISP / "irqnever.c").read_text()
    c = _change(tmp_path, corpus_tree, "irqnever.c", [(old, golden)])
    assert "devm_request_irq(drm->dev," in c.after[f"{IRQDISP}/irqnever.c"]
    assert _reasons(c) == []


def test_devm_irq_freed_by_hand_as_well(tmp_path: Path, corpus_tree: Path) -> None:
    c = _change(tmp_path, corpus_tree, "irqunwind.c", [
        ("ret = request_irq(iu->irq,", "ret = devm_request_irq(iu->drm.dev, iu->irq,")])  # fmt: skip
    assert _reasons(c) == [
        "devm-irq-freed-twice: irqunwind_probe() frees the IRQ irqunwind_probe() requests with "
        "devm_request_irq() (dev_id iu, drivers/gpu/drm/irqdisp/irqunwind.c:40); devres frees it again at "
        "unbind"
    ]


def test_devm_irq_requested_outside_probe(tmp_path: Path, corpus_tree: Path) -> None:
    c = _change(tmp_path, corpus_tree, "irqremove.c", [
        ("static void irqremove_irq_uninstall(",
         "static int irqremove_open(struct drm_device *drm, struct drm_file *file)\n{\n"
         "\tstruct irqremove *ir = container_of(drm, struct irqremove, drm);\n\n"
         "\treturn devm_request_irq(drm->dev, ir->irq, irqremove_irq, 0, \"irqremove\", ir);\n}\n\n"
         "static void irqremove_irq_uninstall("),
        ("\t.name = \"irqremove\",\n};", "\t.name = \"irqremove\",\n\t.open = irqremove_open,\n};"),
    ])  # fmt: skip
    assert [v.invariant for v in invariants.check(c)] == ["devm-irq-not-at-probe"]
    assert "irqremove_open() does not run only at probe or bind" in _reasons(c)[0]
