"""double-put: drop the driver's drm_dev_put() of a drm_device that devres already puts
(devm_drm_dev_alloc() hands its reference to devres)."""

from __future__ import annotations

from refactor.classify.facts import Facts
from refactor.classify.findings import Finding
from refactor.families.family import Family
from refactor.families.ops import Op, Planning, Refusal


def plan_put(p: Planning, facts: Facts, f: Finding) -> list[Op]:
    p.call_at(f.file, f.line, ["drm_dev_put"])
    fn = p.function(f.file, f.line)
    stmt = fn.statement_at(f.line)
    if stmt is None or stmt.type != "expression_statement":
        raise Refusal("the drm_dev_put() is not a statement of its own")
    return [p.op("put", f.file, f.line)]


FAMILY = Family(
    "double-put",
    rules=("double-put",),
    subjects=("Drop the drm_dev_put() that devres already does", "Drop a double drm_dev_put()"),
    cover="drm: Drop drm_dev_put() of devres-managed drm devices",
    summary="drops a second drm_dev_put() of drm devices that devres already puts",
    template="families/double-put.txt.j2",
    plan=plan_put,
)
