"""Where the rules (`semantic_patches/`) and the bundled corpus (`corpus/tree`,
`corpus/golden`) are.

A wheel holds them inside the package: pyproject.toml maps the checkout's directories to
`refactor/semantic_patches` and `refactor/corpus/...`, found through importlib.resources,
so an installed tool works from any directory.  A source checkout, and its editable
install (whose package directory is the checkout's `refactor/`), has them beside the
package instead.
"""

from __future__ import annotations

from importlib import resources
from pathlib import Path

_CHECKOUT = Path(__file__).resolve().parent.parent.parent


def bundled(*parts: str) -> Path:
    """The bundled directory `parts` (for example "corpus", "tree"): the installed
    package's when it has one, else the source checkout's."""
    packaged = resources.files("refactor").joinpath(*parts)
    if isinstance(packaged, Path) and packaged.is_dir():
        return packaged  # an installed wheel is unpacked on disk: a real path for spatch
    checkout = _CHECKOUT.joinpath(*parts)
    return checkout if checkout.is_dir() else Path(str(packaged))
