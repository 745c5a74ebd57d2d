"""The .destroy hooks of the mode objects modeobj.py converts: the hook goes from the
funcs table, and goes entirely when it only cleaned the object up and freed it; what it
did besides stays as a drmm_ release action registered after the object's drmm_ init."""

from __future__ import annotations

import re

from refactor.classify.facts import Facts
from refactor.csrc import cindex
from refactor.csrc.cfunc import Function
from refactor.families.ops import CLEANUPS, INITS, Args, Op, Planning, Refusal, norm


def stmt_text(fn: Function, node: object) -> str:
    n = node  # a tree-sitter node
    return norm(fn.src[n.start_byte : n.end_byte].decode(errors="replace"))  # type: ignore[attr-defined]


def hook_ops(p: Planning, facts: Facts, table: str, kind: str, container: str,
              action: cindex.Call | None = None, file: str = "") -> list[Op]:  # fmt: skip
    """Drop `.destroy` from the funcs table, and the hook when it only cleaned the object
    up and freed its memory (what the drmm_ helper now does at the final drm_dev_put()).
    A hook that also releases other software state becomes a drmm_ release action that
    does only that, registered after the drmm_ init `action` of `file` (whose result is
    checked), so that it runs at the release before the object is cleaned up."""
    if not table:
        return []
    if not re.fullmatch(r"\w+", table):
        raise Refusal(f"the funcs argument {table} is not a named table")
    for where, entries in p.c.tables(facts.driver, table)[:1]:
        d = re.search(r"\.destroy\s*=\s*&?(\w+)\s*,?", entries)
        if not d:
            return []
        hook, ops = d.group(1), [Op("destroy-entry", where, table, "")]
        if hook == CLEANUPS[kind]:
            return ops
        body = hook_body(p, facts, hook)
        if body is None:
            raise Refusal(f"the tool could not find the .destroy hook {hook}()")
        extras, free, problem = hook_parts(body, CLEANUPS[kind])
        if problem:
            raise Refusal(f"the .destroy hook {hook}() also does {problem}: convert by hand")
        if p.c.mentions(facts.driver, hook) > 2:
            raise Refusal(f"{hook}() is used outside the {table} table: convert by hand")
        if not extras:
            return ops + [Op("remove-function", p.defined_in(facts, hook), hook, "")]
        if action is None:
            raise Refusal(f"the .destroy hook {hook}() also does {extras[0]}: keep that as a "
                          "drmm_add_action_or_reset() action by hand")  # fmt: skip
        return ops + action_ops(p, facts, hook, kind, free, action, file)
    raise Refusal(f"the tool could not find the table {table}")


# the calls a hook may keep as a release action: they release software state, which is
# right at the final drm_dev_put(); anything else may touch hardware after unbind
_RELEASES = re.compile(r"\w*(unref|put|free|release|destroy|fini|cleanup)\w*")


def action_ops(p: Planning, facts: Facts, hook: str, kind: str, free: str, init: cindex.Call,
                file: str) -> list[Op]:  # fmt: skip
    """The hook keeps its extra teardown as `<name>_release(drm, arg)`, registered with
    drmm_add_action_or_reset() right after the init's check (whose exit it shares)."""
    if not p.c.api("drmm_add_action_or_reset"):
        raise Refusal("the tree does not declare drmm_add_action_or_reset()")
    fn = p.function(file, init.line)
    stmt = fn.statement_at(init.line)
    text = stmt_text(fn, stmt) if stmt is not None else ""
    var = text.split(" ", 1)[0] if re.match(rf"\w+ = {init.name}\(", text) else ""
    nxt = stmt.next_named_sibling if stmt is not None else None
    cond = stmt_text(fn, nxt) if nxt is not None and nxt.type == "if_statement" else ""
    if not var or not re.match(rf"if \( ?{var}( < 0)? ?\)", cond) or (
            nxt is not None and nxt.child_by_field_name("alternative") is not None):  # fmt: skip
        raise Refusal(f"the .destroy hook {hook}() does more than clean up, and the {init.name}() "
                      "result is not checked in a form after which the tool can register that as a "
                      "drmm_ action")  # fmt: skip
    name = hook.replace("destroy", "release") if "destroy" in hook else hook + "_release"
    body = hook_body(p, facts, hook) or ""
    if p.c.mentions(facts.driver, name) > 0 or {"drm", "arg"} & cindex.identifiers_in(body):
        raise Refusal(f"the .destroy hook {hook}() does more than clean up, and the names its drmm_ "
                      "action would use are taken: convert by hand")  # fmt: skip
    managed = INITS[kind][init.name][0]
    # keyed by the line as devm-mode-object.cocci leaves it, which runs first
    code = p.code(file, init.line).replace(init.name + "(", managed + "(", 1)
    if init.name == "drm_connector_init" and code.endswith(");"):
        code = code[:-2] + ", NULL);"
    register = Op(
        "hook-register", file, init.function, code, Args(drm=init.args[0], action=name, obj=init.args[1])
    )
    action = Op("hook-action", p.defined_in(facts, hook), hook, "",
                Args(name=name, cleanup=CLEANUPS[kind], free=free))  # fmt: skip
    return [action, register]


def hook_body(p: Planning, facts: Facts, name: str) -> str | None:
    for file in facts.driver.module.files:
        for d in p.c.definitions(file) if name.encode() in p.c.data(file) else ():
            if d.name == name and d.kind == "function":
                return d.body.strip().removeprefix("{").removesuffix("}")
    return None


def hook_parts(body: str, cleanup: str) -> tuple[list[str], str, str]:
    """(the calls the hook makes besides one `cleanup(obj);` and one kfree() of its memory,
    which release software state; the kfree()'s argument; what else it does, "" when
    nothing)."""
    body = re.sub(r"/\*.*?\*/|//[^\n]*", "", body, flags=re.S)
    stmts = [norm(s) for s in body.split(";") if norm(s)]
    seen = {"cleanup": 0, "free": 0}
    extras: list[str] = []
    free = ""
    for s in stmts:
        if re.fullmatch(rf"{cleanup}\( ?\w+ ?\)", s):
            seen["cleanup"] += 1
        elif re.fullmatch(r"kfree\( ?\w+ ?\)", s):
            seen["free"] += 1
            free = s[len("kfree(") : -1].strip()
        elif re.fullmatch(r"if \( ?!\w+ ?\) return", s):
            continue  # a NULL check of the hook's argument, which the drmm_ release never needs
        elif re.fullmatch(r"(DBG|DRM_DEBUG\w*|drm_dbg\w*|dev_dbg|pr_debug)\(.*\)", s):
            continue  # a debug message: the drmm_ helpers' release has none
        elif cleanup == "drm_connector_cleanup" and re.fullmatch(r"drm_connector_unregister\( ?\w+ ?\)", s):
            # a no-op by then: drm_dev_unregister() unregisters every connector before any
            # cleanup runs, and drm_connector_cleanup() unregisters one still registered
            continue
        elif re.fullmatch(r"(const )?struct \w+ \* ?\w+ = (\w+\( ?\w+ ?\)|container_of\(.*\))", s):
            continue  # the local that finds the container
        elif re.fullmatch(r"(\w+)\(.*\)", s) and _RELEASES.fullmatch(s.split("(")[0]):
            extras.append(s.split("(")[0] + "()")
        else:
            return extras, free, s.split("(")[0] + "()" if "(" in s else s
    if seen != {"cleanup": 1, "free": 1}:
        return extras, free, "other than one cleanup and one kfree() of its memory"
    return extras, free, ""
