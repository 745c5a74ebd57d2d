"""The tree model: Kbuild modules, Kconfig, drm allocation sites, API availability, its cache."""
