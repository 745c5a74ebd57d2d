"""drmm-action: a devm_add_action() whose action uses drm-lifetime data.  No patch: the
rule is low confidence and moving the action changes when its teardown runs."""

from __future__ import annotations

from refactor.classify.facts import Facts
from refactor.classify.findings import Finding
from refactor.families.family import Family
from refactor.families.ops import Op, Planning, Refusal


def plan_action(p: Planning, facts: Facts, f: Finding) -> list[Op]:
    raise Refusal("moving the action to the final drm_dev_put() changes when its teardown runs, "
                  "which may touch hardware after unbind: the rule is low confidence and its "
                  "fix is left to a person")  # fmt: skip


FAMILY = Family(
    "drmm-action",
    rules=("devm-action-on-drm",),
    subjects=("Fix drmm-action",),
    cover="drm: Tie driver resources to the drm_device lifetime",
    summary=(
        "moves teardown actions on the drm_device from devm_add_action_or_reset() to "
        "drmm_add_action_or_reset()"
    ),
    template="",  # it makes no patch
    plan=plan_action,
)
