"""The invariants of the devm-irq family: an IRQ the patch moves to devres must be freed by
devres alone, at the unbind that matches its request, before its dev_id can be freed.

Each check compares the driver's files before and after the patch (the models of
`drmm_checks.modules()`) and reports only what the patch brings.
"""

from __future__ import annotations

from refactor.classify import irq
from refactor.classify.lifetime import Module
from refactor.invariants.drmm_checks import modules
from refactor.invariants.types import Change, Violation

Key = tuple[str, ...]


def _devm_requests(m: Module) -> list[irq.Request]:
    return irq.requests(m, irq.DEVM_REQUESTS)


def _violations(m: Module) -> dict[Key, Violation]:
    out: dict[Key, Violation] = {}
    removal_puts = [c for _, c in m.calls(["drm_dev_put"]) if c.function in m.removal_functions]
    for req in _devm_requests(m):
        s = req.site
        key = (s.file, s.function, req.dev_id)
        for free in irq.frees(m, req):
            if free.site.code.startswith("free_irq("):
                out[("twice", *key, free.site.file, str(free.site.line))] = Violation(
                    "devm-irq-freed-twice", free.site.file, free.site.line,
                    f"{free.site.function}() frees the IRQ {s.function}() requests with {req.call}() "
                    f"(dev_id {req.dev_id}, {s.file}:{s.line}); devres frees it again at unbind")  # fmt: skip
        if not irq.probe_only(m, s.function):
            out[("again", *key)] = Violation(
                "devm-irq-not-at-probe", s.file, s.line,
                f"{s.function}() does not run only at probe or bind, so its {req.call}() is made again "
                "before the unbind that frees it")  # fmt: skip
        if req.drm_lifetime and removal_puts:
            put = removal_puts[0]
            out[("put", *key)] = Violation(
                "devm-irq-after-put", s.file, s.line,
                f"{put.function}() drops the drm_device with drm_dev_put() (line {put.line}) before devres "
                f"frees the IRQ of {s.function}() at the end of unbind, and the handler's dev_id "
                f"{req.dev_id} ({req.describe()}) can be freed while it is still registered")  # fmt: skip
    return out


def devm_irq_lifetime(change: Change) -> list[Violation]:
    """An IRQ requested with devm_ is not freed by hand as well, is requested once per
    probe or bind, and is not left registered after the remove callback's drm_dev_put()."""
    before, after = modules(change)
    old = _violations(before)
    return [v for k, v in _violations(after).items() if k not in old]


IRQ_CHECKS = (devm_irq_lifetime,)
