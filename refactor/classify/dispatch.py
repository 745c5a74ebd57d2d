"""Which decider judges a rule's candidates, and judging one: rules without a decider are
findings as spatch reports them.
"""

from __future__ import annotations

from collections.abc import Callable

from refactor.classify.classifier import Classifier
from refactor.classify.deciders import (
    _devm_action,
    _drm_private,
    _hw_access,
    _mode_config,
    _mode_object,
    _mutex,
    _unbound,
    _unplug,
)
from refactor.classify.facts import Facts, Verdict
from refactor.classify.irq_decider import _irq
from refactor.classify.memory_deciders import _drm_memory
from refactor.classify.object_deciders import _unmanaged_object
from refactor.cocci.results import Match
from refactor.model.tree import Driver

Decider = Callable[[Classifier, Facts, Match, dict[str, str]], Verdict | None]

_DECIDERS: dict[str, Decider] = {
    "devm-mode-object": _mode_object,
    "devm-drm-private": _drm_private,
    "devm-drm-memory": _drm_memory,
    "unmanaged-mode-config": _mode_config,
    "unmanaged-mutex": _mutex,
    "devm-action-on-drm": _devm_action,
    "unbound-parent": _unbound,
    "unguarded-hw-access": _hw_access,
    "unregister-without-unplug": _unplug,
    "unmanaged-mode-object": _unmanaged_object,
    "irq-outlives-unbind": _irq,
}


def decider(rule: str) -> Decider | None:
    """The decider of `rule` (None: its matches are findings as spatch reports them)."""
    return _DECIDERS.get(rule)


def decide(c: Classifier, rule: str, driver: Driver, match: Match) -> Verdict | None:
    """The finding a match is, or None when the driver's types say it is harmless."""
    judge = _DECIDERS.get(rule)
    if judge is None:
        return Verdict(match.message, "")
    return judge(c, c.facts(driver), match, dict(match.data))
