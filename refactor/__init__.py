"""drmm-refactor: find and fix DRM driver lifetime bugs across a Linux tree."""

__version__ = "0.1.0"
