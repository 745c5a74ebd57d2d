"""The decider of irq-outlives-unbind: an IRQ whose dev_id lives as long as the drm_device
and whose handler is not removed at unbind (see `irq.py` for the model)."""

from __future__ import annotations

from refactor.classify import irq
from refactor.classify.classifier import Classifier
from refactor.classify.facts import Facts, Verdict
from refactor.cocci.results import Match


def _irq(c: Classifier, facts: Facts, m: Match, data: dict[str, str]) -> Verdict | None:
    """A request_irq()/request_threaded_irq() with a drm-lifetime dev_id that no free_irq()
    on the removal path (remove/unbind/unload or a devm_ action) releases: never freed
    (high confidence), or freed only at the final drm_dev_put() (medium)."""
    life = c.lifetime(facts.driver)
    req = next((r for r in irq.requests(life) if (r.site.file, r.site.line) == (m.file, m.line)), None)
    if req is None or not req.drm_lifetime:
        return None
    shape, found = irq.outlives(life, req)
    if not shape:
        return None
    head = f"{req.call}() registers {req.handler}() with dev_id {req.dev_id} ({req.describe()})"
    devm = irq.REQUESTS[req.call][2]
    if shape == "never":
        late = [f for f in found if f.path == "probe"]
        how = f"is freed only on probe's error path ({late[0].where()})" if late else "is never freed"
        message = (f"{head}, which {how}: the handler stays on the line after unbind and, once the final "
                   f"drm_dev_put() frees {_freed(facts, req)}, reads freed memory")  # fmt: skip
        fix = f"request it with {devm}() on the parent device, so that devres frees it at unbind"
        return Verdict(message, fix, (("shape", shape),), confidence="high")
    release = [f for f in found if f.path == "release"]
    message = (f"{head}, which is freed only at the final drm_dev_put() ({release[0].where()}): after "
               "unbind the handler stays on the line and runs on the unbound device's interrupts, and "
               "on a shared line on every other device's, while userspace holds the device open")  # fmt: skip
    fix = (f"free it on the removal path: request it with {devm}() on the parent device and drop "
           f"the free_irq() from {release[0].site.function}()")  # fmt: skip
    return Verdict(message, fix, (("shape", shape),), confidence="medium")


def _freed(facts: Facts, req: irq.Request) -> str:
    """What the final drm_dev_put() frees under the handler."""
    if req.memory != "drm":
        return req.data
    embeds = next((a.struct for a in facts.driver.allocations if a.managed and a.struct), "")
    return f"the drm_device and the {embeds} that embeds it" if embeds else "the drm_device"
