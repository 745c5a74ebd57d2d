"""mutex-destroy: mutex_destroy() for a mutex_init() lock that must not get a drmm_
release action, because its memory is freed by hand before the final drm_dev_put(), or
because the driver tears its software state down in its drm_driver.release hook and
destroys its other locks there.  The destroy goes before each hand free of the memory
(after the lock is set up), or beside the release hook's own mutex_destroy() calls of the
same struct.  drmm-mutex passes these findings on (`Elsewhere`); a lock that needs neither
keeps drmm-mutex's reason."""

from __future__ import annotations

import re
from collections.abc import Sequence

from refactor.classify import lifetime
from refactor.classify.facts import Facts
from refactor.classify.findings import Finding
from refactor.csrc.structs import member_of
from refactor.families.family import Family
from refactor.families.mutex import destroy_instead, release_hook
from refactor.families.ops import Args, Op, Planning, Refusal

# the edits the generator makes (generate/insert.py): a mutex_destroy() line before or after
# the statement the op is keyed on
BEFORE, AFTER = "destroy-before", "destroy-after"


def plan_destroy(p: Planning, facts: Facts, f: Finding) -> list[Op]:
    m = p.c.lifetime(facts.driver)
    lock = next((x for x in m.locks if (x.site.file, x.site.line) == (f.file, f.line)), None)
    if lock is None:
        raise Refusal(f"no mutex_init() at {f.file}:{f.line}")
    why = destroy_instead(p, m, lock)
    if not why:
        raise Refusal(f"{lock.lock} lives as long as the drm_device: drmm_mutex_init() is its fix")
    if lock.call != "mutex_init":
        raise Refusal(f"{why} ({lock.call}() already destroys it at unbind: convert by hand)")
    root, base = m.base(lock.site.file, lock.site.line, lock.lock)
    frees = [(s, a) for s, a, st in m.frees if st and st in (lock.struct, base)]
    if frees:
        return _before_frees(p, m, lock, root, base, frees)
    if base and m.memory_of(base) == "kmalloc":
        raise Refusal(f"{why}; but the tool cannot find where {base} is freed")
    return _in_release(p, m, lock, why)


def _before_frees(p: Planning, m: lifetime.Module, lock: lifetime.Lock, root: str, base: str,
                  frees: Sequence[tuple[lifetime.Site, str]]) -> list[Op]:  # fmt: skip
    """mutex_destroy() before each hand free of the lock's memory that can follow its
    mutex_init() (not the error exits of its own function that come before it)."""
    ops = []
    for site, arg in frees:
        if (site.file, site.function) == (lock.site.file, lock.site.function) and site.line < lock.site.line:
            continue
        expr = _lock_at(m, lock, root, base, site, arg)
        fn = p.function(site.file, site.line)
        stmt = fn.statement_at(site.line)
        text = "" if stmt is None else fn.src[stmt.start_byte : stmt.end_byte].decode(errors="replace")
        alone = stmt is not None and stmt.type == "expression_statement"
        if not alone or not text.startswith(site.code.split("(")[0]):
            raise Refusal(f"the free of {arg} at {site.file}:{site.line} is not a statement of its own: "
                          f"add mutex_destroy({expr}) before it by hand")  # fmt: skip
        if _destroyed_before(fn.src, stmt, expr):
            continue
        if (test := _null_test(fn.src, stmt, arg.strip())) is not None:
            raise Refusal(f"{arg.strip()} may be NULL at the free at {site.file}:{site.line} "
                          f"({test}), where kfree() is safe and mutex_destroy({expr}) is not: "
                          "add it under a check")  # fmt: skip
        ops.append(p.op("destroy-before", site.file, site.line, Args(obj=expr)))
    if not ops:
        raise Refusal(f"{lock.lock} is never freed after its mutex_init(): nothing to destroy it before")
    return ops


def _lock_at(m: lifetime.Module, lock: lifetime.Lock, root: str, base: str, site: lifetime.Site,
             arg: str) -> str:  # fmt: skip
    """The lock as `&...` in terms of the freed pointer `arg` at `site`."""
    a = arg.strip()
    if not re.fullmatch(r"[\w\[\]]+(\s*(->|\.)\s*\w+)*", a):
        raise Refusal(f"the free of {a} at {site.file}:{site.line} names no plain pointer")
    struct = m.struct_of(site.file, site.line, a)
    rest = lock.lock[len(root) :].strip() if lock.lock.startswith(root) else ""
    if base and struct == base and rest.startswith("->"):
        return f"&{a}{rest}"
    container, member = member_of(lock.lock)
    if struct == lock.struct and container and lock.lock.replace(" ", "").endswith(f"->{member}"):
        return f"&{a}->{member}"
    raise Refusal(f"the tool cannot name {lock.lock} through {a} at {site.file}:{site.line}")


def _null_test(src: bytes, stmt: object, ptr: str) -> str | None:
    """The function's own test that `ptr` is set (`if (ptr)`, `ptr != NULL`) when the free at
    `stmt` is not inside such a test: the driver then expects the pointer to be NULL on
    some path through the free (`if (!ptr) return ...;` says the opposite: not counted)."""
    node = getattr(stmt, "parent", None)
    while node is not None:
        if node.type == "if_statement":
            cond = node.child_by_field_name("condition")
            text = "" if cond is None else src[cond.start_byte : cond.end_byte].decode(errors="replace")
            if re.fullmatch(rf"\(\s*{re.escape(ptr)}\s*(!=\s*NULL\s*)?\)", text):
                return None
        if node.type == "function_definition":
            break
        node = node.parent
    if node is None:
        return None
    body = src[node.start_byte : node.end_byte].decode(errors="replace")
    p = re.escape(ptr)
    found = re.search(rf"if\s*\(\s*{p}\s*\)|{p}\s*!=\s*NULL\b", body)
    return None if found is None else " ".join(found.group(0).split())


def _destroyed_before(src: bytes, stmt: object, expr: str) -> bool:
    """Whether the statement before the free already destroys the lock."""
    prev = getattr(stmt, "prev_named_sibling", None)
    if prev is None:
        return False
    text = " ".join(src[prev.start_byte : prev.end_byte].decode(errors="replace").split())
    return text.replace(" ", "") == f"mutex_destroy({expr});".replace(" ", "")


def _in_release(p: Planning, m: lifetime.Module, lock: lifetime.Lock, why: str) -> list[Op]:
    """mutex_destroy() after the last mutex_destroy() of a lock of the same struct in the
    drm release hook (or a function only it runs)."""
    hook = release_hook(m)
    container, member = member_of(lock.lock)
    if not hook or not lock.struct or not member:
        raise Refusal(why)
    roots = {hook} | m.release_roots
    found: list[tuple[str, int, str]] = []
    for rel, call in m.calls(["mutex_destroy"]):
        if not call.args or not (call.function in roots or m.only_from(call.function, roots)):
            continue
        arg = call.args[0].strip()
        if not arg.startswith("&"):
            continue
        other, _ = member_of(arg[1:].strip())
        if other and m.struct_of(rel, call.line, other) == lock.struct:
            sep = "->" if arg[1:].replace(" ", "").startswith(other.replace(" ", "") + "->") else "."
            found.append((rel, call.line, f"&{other}{sep}{member}"))
    if not found:
        raise Refusal(f"{why}; but the release path destroys no other lock of {lock.struct} to put "
                      "it beside: add it by hand")  # fmt: skip
    first = found[0]
    rel, line, expr = max((x for x in found if x[0] == first[0] and p.function(x[0], x[1]).name ==
                           p.function(first[0], first[1]).name), key=lambda x: x[1])  # fmt: skip
    return [p.op("destroy-after", rel, line, Args(obj=expr))]


def _what(rules: Sequence[str], findings: int) -> str:
    return "mutexes" if findings > 1 else "the mutex"


FAMILY = Family(
    "mutex-destroy",
    rules=("unmanaged-mutex",),
    subjects=("Destroy {what} with mutex_destroy()", "Add the missing mutex_destroy()"),
    cover="drm: Destroy mutexes in driver-freed memory with mutex_destroy()",
    summary=(
        "destroys with mutex_destroy() the locks in memory that the driver frees by hand, "
        "where drmm_mutex_init() would act on freed memory"
    ),
    template="families/mutex-destroy.txt.j2",
    plan=plan_destroy,
    what=_what,
)
