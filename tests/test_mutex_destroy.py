"""mutex-destroy's NULL test: a free the driver may reach with a NULL pointer (radeon's
atom_context, tested with `if (ptr)` before it) gets no mutex_destroy(&ptr->lock)."""

from __future__ import annotations

from refactor.csrc import cindex
from refactor.csrc.cfunc import Function
from refactor.families.mutex_destroy import _null_test


def _test_of(body: str, ptr: str) -> str | None:
    src = body.encode()
    line = next(i + 1 for i, text in enumerate(body.splitlines()) if "kfree(" in text)
    fn = Function.at(src, cindex.parse(src), line)
    assert fn is not None
    return _null_test(fn.src, fn.statement_at(line), ptr)


def test_a_pointer_tested_as_set_elsewhere_may_be_null_at_the_free() -> None:
    body = ("void fini(struct dev *d)\n{\n\tif (d->ctx) {\n\t\tkfree(d->ctx->scratch);\n\t}\n"
            "\tkfree(d->ctx);\n\td->ctx = NULL;\n}\n")  # fmt: skip
    assert _test_of(body.replace("kfree(d->ctx->scratch)", "d->n = 0"), "d->ctx") == "if (d->ctx)"


def test_a_free_inside_the_test_or_after_a_failed_allocation_check_is_fine() -> None:
    inside = "void fini(struct dev *d)\n{\n\tif (d->ctx) {\n\t\tkfree(d->ctx);\n\t}\n}\n"
    assert _test_of(inside, "d->ctx") is None
    checked = ("int init(struct dev *d)\n{\n\tstruct ctx *s = kzalloc(sizeof(*s), GFP_KERNEL);\n\n"
               "\tif (!s)\n\t\treturn -ENOMEM;\n\tif (setup(s)) {\n\t\tkfree(s);\n\t\treturn -EIO;\n\t}\n"
               "\treturn 0;\n}\n")  # fmt: skip
    assert _test_of(checked, "s") is None
