"""The programs and headers a kernel build needs, and the Debian package of each.

Verification checks them before `make allmodconfig` runs, so that a missing one is a
one-line message naming it and its package rather than make's `Error 127` from deep in
scripts/kconfig.  `./run` asks the same table which packages to install:

    python3 -m refactor.verify.prereqs [--arch ARCH]...

prints the Debian packages of what is missing for x86_64 and each ARCH, git and patch
included (nothing when all is there); it needs nothing beyond the standard library, so it
runs before the virtualenv exists.

Headers are looked for in the host compiler's `#include <...>` search directories
(`gcc -E -v`); `$DRMM_HOST_INCLUDE` (directories separated by `:`) replaces that list, for
a compiler with an unusual search path.
"""

from __future__ import annotations

import argparse
import os
import shutil
from collections.abc import Iterable, Sequence
from dataclasses import dataclass
from pathlib import Path

from refactor.infra import proc
from refactor.infra.errors import ToolError


@dataclass(frozen=True)
class Prereq:
    """A program on PATH (`command`) or a header the host compiler finds (`header`)."""

    package: str  # Debian's package that provides it
    command: str = ""
    header: str = ""

    @property
    def name(self) -> str:
        return self.command or f"<{self.header}>"


# What `make allmodconfig prepare` and compiling single objects need on any architecture:
# kconfig's lexer and parser (flex, bison), kernel/time's timeconst.h (bc), objtool
# (libelf) and scripts/sign-file (openssl), perl for checkpatch and the headers scripts.
HOST = (
    Prereq("make", command="make"),
    Prereq("gcc", command="gcc"),
    Prereq("libc6-dev", header="stdio.h"),
    Prereq("flex", command="flex"),
    Prereq("bison", command="bison"),
    Prereq("bc", command="bc"),
    Prereq("perl", command="perl"),
    Prereq("libelf-dev", header="gelf.h"),
    Prereq("libssl-dev", header="openssl/evp.h"),
    Prereq("coreutils", command="cp"),
)
GIT = Prereq("git", command="git")  # a git tree is verified in a worktree of it
PATCH = Prereq("patch", command="patch")  # a tree without git in a hard-linked copy
# The cross compiler's prefix per ARCH (Debian's gcc-<triplet> packages).
CROSS = {"arm64": "aarch64-linux-gnu-", "arm": "arm-linux-gnueabihf-", "riscv": "riscv64-linux-gnu-"}
NATIVE = ("x86_64", "x86")


def cross_compiler(arch: str) -> Prereq | None:
    """The cross gcc for `arch` (None for the native x86_64); KeyError for an unknown one."""
    if arch in NATIVE:
        return None
    prefix = CROSS[arch]
    return Prereq("gcc-" + prefix.rstrip("-"), command=prefix + "gcc")


def include_dirs() -> list[Path]:
    """The directories the host compiler searches for `#include <...>`."""
    override = os.environ.get("DRMM_HOST_INCLUDE")
    if override is not None:
        return [Path(d) for d in override.split(os.pathsep) if d]
    if shutil.which("gcc") is not None:
        try:
            res = proc.run(["gcc", "-E", "-v", "-x", "c", os.devnull], timeout=60)
        except ToolError:
            res = None
        if res is not None and res.ok:
            lines = res.stderr.splitlines()
            try:
                start = lines.index("#include <...> search starts here:") + 1
                end = lines.index("End of search list.", start)
            except ValueError:
                pass
            else:
                return [Path(x.strip()) for x in lines[start:end]]
    # no compiler to ask (it is reported missing itself): Debian's usual places
    usr = Path("/usr/include")
    return [Path("/usr/local/include"), *sorted(usr.glob("*-linux-gnu")), usr]


def missing(arches: Iterable[str] = ("x86_64",), git: bool = True) -> list[Prereq]:
    """The prerequisites of building for `arches` that are not here, in table order."""
    wanted = [*HOST, GIT if git else PATCH]
    for arch in arches:
        cross = cross_compiler(arch)
        if cross is not None and cross not in wanted:
            wanted.append(cross)
    dirs: list[Path] | None = None
    out = []
    for p in wanted:
        if p.command:
            found = shutil.which(p.command) is not None
        else:
            dirs = include_dirs() if dirs is None else dirs
            found = any((d / p.header).is_file() for d in dirs)
        if not found:
            out.append(p)
    return out


def message(absent: Sequence[Prereq]) -> str:
    """One line naming each missing prerequisite and its package ("" when none is)."""
    if not absent:
        return ""
    names = ", ".join(f"{p.name} (Debian package {p.package})" for p in absent)
    packages = " ".join(dict.fromkeys(p.package for p in absent))
    return f"verification needs {names}, not found: apt-get install {packages}"


def check(arches: Iterable[str] = ("x86_64",), git: bool = True) -> str:
    """Why the kernel cannot be built here for `arches` ("" when it can)."""
    return message(missing(arches, git))


def main(argv: Sequence[str] | None = None) -> int:
    """Print the Debian packages to install (space-separated; nothing when none)."""
    ap = argparse.ArgumentParser(prog="python3 -m refactor.verify.prereqs", description=main.__doc__)
    ap.add_argument("--arch", action="append", choices=[*NATIVE, *CROSS], help="also for ARCH (repeatable)")
    args = ap.parse_args(argv)
    absent = missing(["x86_64", *(args.arch or ())], git=True)
    if shutil.which(PATCH.command) is None:
        absent.append(PATCH)
    print(" ".join(dict.fromkeys(p.package for p in absent)))
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
