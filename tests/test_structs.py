"""The struct index and expression types that decide what spatch matched."""

from __future__ import annotations

import pytest

from refactor.csrc import cindex, structs
from refactor.csrc.structs import CType

SOURCE = b"""
#define to_foo_crtc(c) container_of(c, struct foo_crtc, base)
struct foo_crtc {
	struct drm_crtc base;
	void __iomem *regs;
	union { int a; struct clk *clk; } u;
	struct { struct drm_plane primary; };
	int (*cb)(struct foo_crtc *c);
};
typedef struct { int x; } bar_t;
struct priv {
	struct foo_plane *planes;
	struct foo_crtc *crtc;
	struct drm_device drm;
};
static struct priv *global_priv;
struct priv *get_priv(struct device *dev);
static int probe(struct device *dev, struct priv *priv)
{
	struct foo_crtc *c, copies[3];
	c = devm_kzalloc(dev, sizeof(*c), GFP_KERNEL);
	return 0;
}
"""


@pytest.fixture(scope="module")
def resolver() -> structs.Resolver:
    index = structs.StructIndex()
    index.add(structs.declarations(SOURCE, "a.c"), "a.c")
    line = SOURCE.decode().splitlines().index("\tc = devm_kzalloc(dev, sizeof(*c), GFP_KERNEL);") + 1
    return structs.Resolver(index, structs.local_types(SOURCE, cindex.parse(SOURCE), line), "a.c")


def test_fields_flatten_anonymous_members_and_keep_pointers() -> None:
    decls = structs.declarations(SOURCE, "a.c")
    crtc = next(s for s in decls.structs if s.name == "struct foo_crtc")
    by_name = {f.name: f for f in crtc.fields}
    assert by_name["base"] == structs.Field("base", "struct drm_crtc")
    assert by_name["regs"].iomem and by_name["regs"].pointer == 1
    assert by_name["primary"].type == "struct drm_plane"  # from the anonymous struct
    assert by_name["cb"].function
    assert by_name["u"].type.startswith("union ")  # a named member of an unnamed union type
    assert ("bar_t", "bar_t") in decls.typedefs
    assert dict(decls.returns)["to_foo_crtc"] == CType("struct foo_crtc", 1)
    assert dict(decls.globals)["global_priv"] == CType("struct priv", 1)


@pytest.mark.parametrize(
    ("expr", "expected"),
    [
        ("c", CType("struct foo_crtc", 1)),
        ("*c", CType("struct foo_crtc", 0)),
        ("copies[1]", CType("struct foo_crtc", 0)),
        ("priv->crtc", CType("struct foo_crtc", 1)),
        ("*priv->planes", CType("struct foo_plane", 0)),
        ("priv -> planes[0]", CType("struct foo_plane", 0)),
        ("&priv->drm", CType("struct drm_device", 1)),
        ("to_foo_crtc(x)", CType("struct foo_crtc", 1)),
        ("global_priv->crtc->u.clk", CType("struct clk", 1)),
        ("get_priv(dev)->drm", CType("struct drm_device", 0)),
        ("(struct priv *)data", CType("struct priv", 1)),
        ("unknown->field", structs.UNKNOWN),
    ],
)
def test_type_of(resolver: structs.Resolver, expr: str, expected: CType) -> None:
    assert resolver.type_of(expr) == expected


@pytest.mark.parametrize(
    ("size", "expected"),
    [
        ("*c", CType("struct foo_crtc", 0)),
        ("struct foo_crtc", CType("struct foo_crtc", 0)),
        ("bar_t", CType("bar_t", 0)),
        ("*priv->planes", CType("struct foo_plane", 0)),
        ("struct foo_plane *", CType("struct foo_plane", 1)),
    ],
)
def test_sizeof_type(resolver: structs.Resolver, size: str, expected: CType) -> None:
    assert structs.sizeof_type(resolver.index, resolver, size) == expected
