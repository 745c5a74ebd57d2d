"""devm-irq: request an IRQ whose handler outlives unbind with devm_request_irq() (or
devm_request_threaded_irq()) on the parent device, so that devres frees it at unbind,
before the drm_device's final put can free its dev_id.  Refused where the request is not
made once at probe or bind, where a free_irq() of it remains (devres would free it a
second time), or where the free moves out of a release hook."""

from __future__ import annotations

from collections.abc import Sequence

from refactor.classify import irq
from refactor.classify.facts import Facts
from refactor.classify.findings import Finding
from refactor.families.family import Family
from refactor.families.ops import Args, Op, Planning, Refusal


def plan_irq(p: Planning, facts: Facts, f: Finding) -> list[Op]:
    m = p.c.lifetime(facts.driver)
    req = next((r for r in irq.requests(m) if (r.site.file, r.site.line) == (f.file, f.line)), None)
    if req is None:
        raise Refusal(f"no request_irq() at {f.file}:{f.line}")
    devm = irq.REQUESTS[req.call][2]
    if not _declared(p, devm):
        raise Refusal(f"the tree does not declare {devm}()")
    if facts.unmanaged:
        raise Refusal("the driver allocates its drm_device with drm_dev_alloc() and drops it itself: "
                      "devres would free the IRQ only after that drm_dev_put(); call free_irq() before "
                      "the put by hand")  # fmt: skip
    _, found = irq.outlives(m, req)
    if found:
        free = found[0]
        late = "at the final drm_dev_put()" if free.path == "release" else "on probe's error path"
        raise Refusal(f"free_irq() in {free.site.function}() ({free.site.file}:{free.site.line}) frees it "
                      f"{late}; with {devm}() devres would free it a second time: move or drop that "
                      "free_irq() by hand")  # fmt: skip
    if not irq.probe_only(m, req.site.function):
        raise Refusal(f"{req.site.function}() does not run only at probe or bind: a {devm}() there "
                      "would be made again before unbind frees it")  # fmt: skip
    waits = irq.release_waits(m, req)
    if waits:
        w = waits[0]
        raise Refusal(f"{w.site.function}() ({w.site.file}:{w.site.line}), reached from the drm_device's "
                      f"release, waits on {w.member}, which {req.handler}() signals: with the IRQ freed at "
                      "unbind that wait times out at the last close and what it waits for stays undone; "
                      "move that teardown to the removal path first, by hand")  # fmt: skip
    p.call_at(f.file, f.line, [req.call])
    drm = p.drm_at(facts, f.file, f.line)
    return [p.op("devm-irq", f.file, f.line, Args(drm=parent_of(drm)))]


def parent_of(drm: str) -> str:
    """The parent device of a drm_device expression: `ddev` -> `ddev->dev`, `&p->drm` -> `p->drm.dev`."""
    drm = drm.replace(" ", "")
    return f"{drm[1:]}.dev" if drm.startswith("&") else f"{drm}->dev"


def _declared(p: Planning, name: str) -> bool:
    """Whether include/linux/interrupt.h declares `name` (every tree since 2.6.30 does; a
    tree without the header is trusted)."""
    header = p.c.root / "include/linux/interrupt.h"
    try:
        return name in header.read_text(errors="replace")
    except OSError:
        return True


def _what(rules: Sequence[str], findings: int) -> str:
    return "IRQs" if findings > 1 else "the IRQ"


FAMILY = Family(
    "devm-irq",
    rules=("irq-outlives-unbind",),
    subjects=("Free {what} at unbind with devm_request_irq()", "Use devm_request_irq()"),
    cover="drm: Free IRQs at unbind with devm_request_irq()",
    summary=(
        "requests the interrupts whose handlers reach the drm_device with devm_request_irq(), "
        "so that they are freed at unbind instead of never"
    ),
    template="families/devm-irq.txt.j2",
    plan=plan_irq,
    what=_what,
)
