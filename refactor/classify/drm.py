"""What the DRM API is made of, as the classifier and the planners need it: the mode
object structs, the hardware handles that may live in devm_ memory, the drmm_ counterpart
of each devm_ allocator and the helpers that allocate or init each kind of mode object.
"""

from __future__ import annotations

MODE_OBJECTS = {
    "struct drm_crtc": "CRTC",
    "struct drm_plane": "plane",
    "struct drm_encoder": "encoder",
    "struct drm_connector": "connector",
    "struct drm_writeback_connector": "writeback connector",
    "struct drm_private_obj": "private object",
}


# Handles to hardware: right to keep in devm_ memory (guarded by drm_dev_enter()).
HW_TYPES = {
    f"struct {n}"
    for n in [
        "clk",
        "clk_bulk_data",
        "regulator",
        "regulator_bulk_data",
        "reset_control",
        "reset_control_bulk_data",
        "gpio_desc",
        "gpio_descs",
        "regmap",
        "regmap_field",
        "phy",
        "device",
        "platform_device",
        "i2c_client",
        "i2c_adapter",
        "spi_device",
        "mipi_dsi_device",
        "mipi_dsi_host",
        "resource",
        "pwm_device",
        "backlight_device",
        "dma_chan",
        "mbox_chan",
        "pinctrl",
        "pinctrl_state",
        "extcon_dev",
        "irq_domain",
        "device_node",
        "fwnode_handle",
        "iommu_domain",
        "syscon",
        "nvmem_cell",
    ]
}


_SCALARS = ("struct", "union")


DRMM_OF = {
    "devm_kzalloc": "drmm_kzalloc",
    "devm_kmalloc": "drmm_kmalloc",
    "devm_kcalloc": "drmm_kcalloc",
    "devm_kmalloc_array": "drmm_kmalloc_array",
    "devm_kstrdup": "drmm_kstrdup",
}


ALLOC_HELPERS = {  # mode object kind -> (allocating helper, init helper)
    "CRTC": ("drmm_crtc_alloc_with_planes", "drmm_crtc_init_with_planes"),
    "plane": ("drmm_universal_plane_alloc", "drmm_universal_plane_init"),
    "encoder": ("drmm_encoder_alloc", "drmm_encoder_init"),
    "connector": ("", "drmm_connector_init"),
    "writeback connector": ("", "drmm_writeback_connector_init"),
    "private object": ("", ""),
}
