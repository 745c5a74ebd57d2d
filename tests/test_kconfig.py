"""The Kconfig reader and the architecture a driver is built for: the synthetic tree of
corpus/kconfig (see its README), then real Linux 7.2 drivers (realtree)."""

from __future__ import annotations

from pathlib import Path

import pytest

from refactor.model import kconfig

CORPUS = Path(__file__).resolve().parent.parent / "corpus" / "kconfig"
ALL = ("x86_64", "arm64", "arm")


@pytest.mark.parametrize(
    ("directory", "symbol", "arches"),
    [
        ("drivers/gpu/drm/armonly", "DRM_ARMONLY", ("arm",)),  # `depends on ... && ARM`
        ("drivers/gpu/drm/armonly", "DRM_ARMONLY_HDMI", ("arm",)),  # inside `if DRM_ARMONLY`
        ("drivers/gpu/drm/soc", "CONFIG_DRM_FOOSOC", ALL),  # ARCH_FOOSOC || COMPILE_TEST
        ("drivers/gpu/drm/soc", "DRM_OLDBOARD", ("arm",)),  # an ARCH_ only arm defines
        ("drivers/gpu/drm/apple", "DRM_PEAR", ("arm64",)),  # ARM64, continued line
        ("drivers/gpu/drm/menu", "DRM_DP500", ("arm64", "arm")),  # the menu's depends
        ("drivers/gpu/drm/menu", "DRM_DP500_FAST", ("arm64", "arm")),  # a choice in the menu
        ("drivers/gpu/drm/menu", "DRM_AFTER_MENU", ("x86_64",)),  # after endmenu
        ("drivers/gpu/drm/notx86", "DRM_NOTX86", ("arm64", "arm")),  # !X86; PM is no arch's
        ("drivers/gpu/drm/sub/inner", "DRM_INNER", ("arm64", "arm")),  # rsource, another's symbol
        ("drivers/gpu/drm", "DRM", ALL),  # !PARISC: an architecture not built here
        ("drivers/gpu/drm/soc", "DRM_NOT_THERE", ALL),  # unknown: try them all
        ("drivers/gpu/drm/soc", "y", ALL),  # built in unconditionally
    ],
)
def test_arches_from_the_kconfig_dependencies(directory: str, symbol: str, arches: tuple[str, ...]) -> None:
    assert kconfig.arches_for(CORPUS, directory, symbol) == arches


def test_entries_keep_their_blocks_and_skip_help_and_select() -> None:
    entry, index = kconfig.find(CORPUS, "drivers/gpu/drm/armonly", "DRM_ARMONLY_HDMI")
    assert entry is not None
    assert (entry.file, entry.line) == ("drivers/gpu/drm/armonly/Kconfig", 11)
    assert entry.depends == ("DRM", "DRM_ARMONLY", "COMPILE_TEST || ARM64")
    armonly = index["DRM_ARMONLY"]
    assert armonly.depends == ("DRM", "DRM && OF && ARM")  # not the help text, not select
    assert index["DRM_PEAR"].depends[-1].split() == ["ARCH_PEAR", "||", "COMPILE_TEST"]
    assert index["DRM_DP500_FAST"].depends == ("DRM", "ARM || ARM64", "DRM_DP500")
    assert index["DRM_AFTER_MENU"].depends == ("DRM", "X86_64 && 64BIT")
    assert "X86" not in " ".join(index["DRM"].depends)


def test_arch_symbols_are_those_only_arch_defines() -> None:
    syms = kconfig.arch_symbols(CORPUS)
    assert {"ARM", "ARM64", "X86", "ARCH_FOOSOC", "64BIT"} <= syms[""]
    assert "PM" not in syms[""]  # kernel/power defines it too
    assert "COMPILE_TEST" not in syms[""]
    assert "ARCH_OLDBOARD" in syms["arm"] and "ARCH_OLDBOARD" not in syms["arm64"]


@pytest.mark.parametrize(
    ("expr", "value"),
    [
        ("A && B", True),
        ("A && N", False),
        ("A && U", None),  # depends on a symbol not known
        ("N || U", None),
        ("A || U", True),
        ("!N && (A || N)", True),
        ("!U", None),
        ("N || N=n", True),
        ("A=n", False),
        ("U || U=n", None),
        ("A != N", True),
        ("", True),
    ],
)
def test_three_valued_evaluation(expr: str, value: bool | None) -> None:
    known = {"A": True, "B": True, "N": False}
    assert kconfig.evaluate(expr, lambda s: known.get(s)) is value


@pytest.mark.realtree
@pytest.mark.parametrize(
    ("directory", "symbol", "first"),
    [
        ("drivers/gpu/drm/armada", "CONFIG_DRM_ARMADA", ("arm",)),  # ARM && MMU, no COMPILE_TEST
        ("drivers/gpu/drm/tilcdc", "CONFIG_DRM_TILCDC", ("arm",)),
        ("drivers/gpu/drm/adp", "CONFIG_DRM_ADP", ("arm64",)),  # ARM64 && (ARCH_APPLE || COMPILE_TEST)
        ("drivers/gpu/drm/sun4i", "CONFIG_DRM_SUN4I", ALL),  # ARCH_SUNXI || COMPILE_TEST
        ("drivers/gpu/drm/arm", "CONFIG_DRM_HDLCD", ALL),  # ARM || ARM64 || COMPILE_TEST
        ("drivers/gpu/drm/i915", "CONFIG_DRM_I915", ("x86_64",)),  # X86 && PCI
        ("drivers/gpu/drm/tiny", "CONFIG_TINYDRM_REPAPER", ALL),  # DRM && SPI
    ],
)
def test_arches_of_real_drivers(linux_7_2: Path, directory: str, symbol: str, first: tuple[str, ...]) -> None:
    assert kconfig.arches_for(linux_7_2, directory, symbol) == first
