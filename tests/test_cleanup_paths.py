"""The path of a manual drm_mode_config_cleanup() (lifetime.Module.cleanups): "removal" only
where a removal root reaches the call, "release" where the drm_driver.release hook does
(through an ops-table field named like the function), and "unknown" otherwise, which no
decider reports (issue 18, review C4)."""

from __future__ import annotations

from refactor.classify.lifetime import Module

_DRIVER = """
static int rdx_ip_sw_fini(struct rdx *r)
{
	drm_mode_config_cleanup(&r->drm);
	return 0;
}
static const struct rdx_ip_funcs rdx_ip = { .sw_fini = rdx_ip_sw_fini, };
static void rdx_fini_sw(struct rdx *r)
{
	r->ip->sw_fini(r);
}
static void rdx_release(struct drm_device *d)
{
	rdx_fini_sw(to_rdx(d));
}
static const struct drm_driver rdx_driver = {
	.release = rdx_release,
};
static void rdx_teardown(struct rdx *r)
{
	drm_mode_config_cleanup(&r->drm);
}
static void rdx_mock_put(struct rdx *r)
{
	drm_mode_config_cleanup(&r->drm);
}
static void rdx_remove(struct platform_device *pdev)
{
	rdx_teardown(platform_get_drvdata(pdev));
}
static struct platform_driver rdx_platform = {
	.remove = rdx_remove,
};
"""


def _paths() -> dict[str, str]:
    m = Module({"drivers/gpu/drm/rdx/rdx.c": _DRIVER.encode()})
    return {c.site.function: c.path for c in m.cleanups}


def test_release_through_an_ops_table_field() -> None:
    assert _paths()["rdx_ip_sw_fini"] == "release"


def test_removal_only_where_a_removal_root_reaches() -> None:
    assert _paths()["rdx_teardown"] == "removal"


def test_unreached_cleanup_is_unknown_not_removal() -> None:
    # a selftest's mock device or a hook the module does not name: no path is asserted
    assert _paths()["rdx_mock_put"] == "unknown"
