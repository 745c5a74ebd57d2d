"""The planner's view of one C function: the drm_device in scope and the error exit."""

from __future__ import annotations

import pytest

from refactor.csrc import cindex
from refactor.csrc.cfunc import Function
from refactor.csrc.structs import StructIndex, declarations

HEADER = b"""
struct drm_device { struct device *dev; };
struct foo { struct drm_device drm; struct mutex lock; };
struct bar { struct drm_device *drm; int x; };
"""


def _fn(body: str, line_of: str) -> tuple[Function, int, StructIndex]:
    src = HEADER + body.encode()
    index = StructIndex()
    index.add(declarations(src, "x.c"), "x.c")
    tree = cindex.parse(src)
    line = next(i + 1 for i, text in enumerate(src.decode().splitlines()) if line_of in text)
    fn = Function.at(src, tree, line)
    assert fn is not None
    return fn, line, index


def test_drm_from_a_parameter_and_an_embedded_member() -> None:
    fn, line, index = _fn("int f(struct drm_device *drm) {\n\tx = devm_kzalloc(drm->dev, 4, 0);\n}\n", "devm")
    assert fn.drm_at(line, index) == "drm"
    fn, line, index = _fn(
        "int f(struct device *dev) {\n\tstruct foo *p;\n\tp = get(dev);\n\tx = devm_kzalloc(dev, 4, 0);\n}\n",
        "devm",
    )
    assert fn.drm_at(line, index) == "&p->drm"


def test_drm_pointer_member_only_once_assigned() -> None:
    body = "int f(struct bar *b, struct drm_device *d) {\n\tx = devm_kzalloc(0, 4, 0);\n\tb->drm = d;\n}\n"
    fn, line, index = _fn(body, "devm")
    assert fn.drm_at(line, index, avoid="d") == ""
    body = "int f(struct bar *b, struct drm_device *d) {\n\tb->drm = d;\n\tx = devm_kzalloc(0, 4, 0);\n}\n"
    fn, line, index = _fn(body, "devm")
    assert fn.drm_at(line, index, avoid="d") == "b->drm"


def test_drm_pointer_member_used_and_never_set_here() -> None:
    """`b->drm` used by the function and set nowhere in it was set by its caller."""
    body = "int f(struct bar *b)\n{\n\tx = devm_kzalloc(0, 4, 0);\n\tdrm_encoder_init(b->drm, x);\n}\n"
    fn, line, index = _fn(body, "devm")
    assert fn.drm_at(line, index) == "b->drm"
    body = "int f(struct bar *b)\n{\n\tx = devm_kzalloc(0, 4, 0);\n\tb->x = 1;\n}\n"
    fn, line, index = _fn(body, "devm")
    assert fn.drm_at(line, index) == ""


def test_component_bind_data_is_the_drm_device() -> None:
    body = (
        "static int b(struct device *dev, struct device *master, void *data)\n"
        "{\n\tx = devm_kzalloc(dev, 4, 0);\n}\n"
    )
    fn, line, index = _fn(body, "devm")
    assert fn.drm_at(line, index) == "data"


def test_a_local_drm_set_later_is_not_in_scope() -> None:
    body = ("int probe(struct device *dev)\n{\n\tstruct drm_device *drm;\n\tx = devm_kzalloc(dev, 4, 0);\n"
            "\tdrm = drm_dev_alloc(&drv, dev);\n}\n")  # fmt: skip
    fn, line, index = _fn(body, "devm")
    assert fn.drm_at(line, index) == ""
    assert fn.creates_drm_after(line)


@pytest.mark.parametrize(
    ("body", "expected"),
    [
        # the next statement's check jumps to a label: use it
        (
            "int f(void)\n{\n\tint ret;\n\tmutex_init(&l);\n\tret = a();\n\tif (ret)\n\t\tgoto err_a;\n"
            "\treturn 0;\nerr_a:\n\treturn ret;\n}\n",
            "goto err_a;",
        ),
        # infallible set-up is skipped; logging and setting the error code are allowed
        (
            "int f(void)\n{\n\tint err;\n\tmutex_init(&l);\n\tINIT_LIST_HEAD(&h);\n\tp->n = 0;\n"
            '\tp->q = b();\n\tif (IS_ERR(p->q)) {\n\t\tdev_err(d, "x");\n\t\terr = PTR_ERR(p->q);\n'
            "\t\tgoto out;\n\t}\nout:\n\treturn err;\n}\n",
            "goto out;",
        ),
        # nothing to unwind anywhere: a plain return
        ("int f(void)\n{\n\tint ret;\n\tmutex_init(&l);\n\treturn 0;\n}\n", "return ret;"),
        ("struct x *f(void)\n{\n\tint ret;\n\tmutex_init(&l);\n\treturn p;\n}\n", "return ERR_PTR(ret);"),
        # memory from kzalloc() before, and no error path after to copy: a new return would leak it
        (
            "int f(struct a *a)\n{\n\tint ret;\n\tp = kzalloc(8, GFP_KERNEL);\n"
            "\tif (!p)\n\t\treturn -ENOMEM;\n\tmutex_init(&p->l);\n\ta->p = p;\n\treturn 0;\n}\n",
            None,
        ),
        # managed memory before: nothing to undo
        (
            "int f(struct a *a)\n{\n\tint ret;\n\tp = devm_kzalloc(d, 8, GFP_KERNEL);\n\tif (!p)\n"
            "\t\treturn -ENOMEM;\n\tmutex_init(&p->l);\n\treturn 0;\n}\n",
            "return ret;",
        ),
        # nothing set up before: a plain return, though the later checks undo by hand or jump
        (
            "int f(void)\n{\n\tint ret;\n\tmutex_init(&l);\n\tret = a();\n\tif (ret) {\n\t\tundo();\n"
            "\t\treturn ret;\n\t}\n\tif (b())\n\t\tgoto x;\nx:\n\treturn 0;\n}\n",
            "return ret;",
        ),
        # a fence context number is nothing to undo (v3d's shape: the later check unwinds by hand)
        (
            "int f(void)\n{\n\tint ret;\n\tq->ctx = dma_fence_context_alloc(1);\n\tmutex_init(&l);\n"
            "\tp = a();\n\tif (!p) {\n\t\tundo();\n\t\treturn -ENOMEM;\n\t}\n\treturn 0;\n}\n",
            "return ret;",
        ),
        # something set up before (a lock taken), and a check after that undoes by hand: not clear
        (
            "int f(void)\n{\n\tint ret;\n\tmutex_lock(&m);\n\tmutex_init(&l);\n\tret = a();\n"
            "\tif (ret) {\n\t\tundo();\n\t\treturn ret;\n\t}\n\tmutex_unlock(&m);\n\treturn 0;\n}\n",
            None,
        ),
        ("void f(void)\n{\n\tint ret;\n\tmutex_init(&l);\n}\n", None),
        # the next check undoes by hand (v3d_gem_init): its teardown, without its message and code
        (
            "int f(void)\n{\n\tint ret;\n\tp = kzalloc(8, 0);\n\tmutex_init(&l);\n\tq = a();\n"
            '\tif (!q) {\n\t\tkfree(p);\n\t\tdev_err(d, "no q");\n\t\tret = -ENOMEM;\n\t\treturn ret;\n\t}\n'
            "\treturn 0;\n}\n",
            "{ kfree(p); return ret; }",
        ),
        # the last check before is of a managed call, and nothing follows to copy: its exit
        (
            "int f(void)\n{\n\tint ret;\n\tp = kzalloc(8, 0);\n\tret = devm_request_irq(d, 1, h, 0, n, p);"
            "\n\tif (ret)\n\t\tgoto err_free;\n\tmutex_init(&l);\n\treturn 0;\nerr_free:\n\tkfree(p);\n"
            "\treturn ret;\n}\n",
            "goto err_free;",
        ),
        # ... but not when the checked call sets up something of its own to undo
        (
            "int f(void)\n{\n\tint ret;\n\tp = kzalloc(8, 0);\n\tret = request_irq(1, h, 0, n, p);"
            "\n\tif (ret)\n\t\tgoto err_free;\n\tmutex_init(&l);\n\treturn 0;\nerr_free:\n\tkfree(p);\n"
            "\treturn ret;\n}\n",
            None,
        ),
        # an unchecked call before the next check is skipped (qxl_io_reset())...
        (
            "int f(void)\n{\n\tint r;\n\tp = kzalloc(8, 0);\n\tmutex_init(&l);\n\thw_reset(p);\n"
            "\tr = irq_init(p);\n\tif (r)\n\t\tgoto err_free;\n\treturn 0;\nerr_free:\n\tkfree(p);\n"
            "\treturn r;\n}\n",
            "goto err_free;",
        ),
        # ... but not one whose kind the function tears down (the label would undo it)
        (
            "int f(void)\n{\n\tint r;\n\tp = kzalloc(8, 0);\n\tmutex_init(&l);\n\tpoll_init(p);\n"
            "\tr = irq_init(p);\n\tif (r)\n\t\tgoto err_poll;\n\treturn 0;\nerr_poll:\n\tpoll_fini(p);\n"
            "\tkfree(p);\n\treturn r;\n}\n",
            None,
        ),
    ],
)
def test_error_exit(body: str, expected: str | None) -> None:
    fn, line, _ = _fn(body, "mutex_init")
    var = fn.error_var()
    assert fn.error_exit(line, var or "ret") == expected
