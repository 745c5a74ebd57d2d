"""The kernel build verification uses: allmodconfig build directories per tree and
architecture, the architecture a driver is built for, and compiling one object.

A build directory is `make O=DIR ARCH=... allmodconfig prepare`, made once per tree and
architecture in the cache, only for the architectures a run needs, under a lock so that
two runs do not prepare the same one at once.  A driver is built for the first
architecture (x86_64, then arm64, then arm) that its Kconfig dependencies allow and
whose allmodconfig really enables its symbol: x86_64 reaches most drivers through
COMPILE_TEST, the others need the SoC's own architecture.
"""

from __future__ import annotations

import contextlib
import fcntl
import hashlib
import os
import re
import shutil
from collections.abc import Iterator, Sequence
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from refactor.infra import git, proc
from refactor.infra.cache import Store, cache_dir
from refactor.infra.errors import RefactorError
from refactor.model import kconfig
from refactor.verify import prereqs

CROSS = {"arm64": "aarch64-linux-gnu-", "arm": "arm-linux-gnueabihf-", "riscv": "riscv64-linux-gnu-"}
FORMAT = b"results-6"  # bump when what a cached result holds or means changes
_COMPILER_ERROR = re.compile(r"^[^:\s]+:\d+:\d+: (fatal )?error: ")
_WARNING = re.compile(r"^(?P<file>[^:\s]+):\d+:\d+: (?P<kind>warning|error): (?P<msg>.*)$")


@dataclass(frozen=True)
class Build:
    """A prepared build directory: `make O=dir ARCH=arch allmodconfig prepare`."""

    dir: Path
    arch: str
    config: dict[str, str]
    key: str  # configuration and compiler, for the result cache

    def enabled(self, symbol: str) -> bool:
        return symbol in ("y", "m", "") or self.config.get(symbol, "n") in ("y", "m")

    def make(self) -> list[str]:
        """`make O=dir ARCH=... CROSS_COMPILE=...`, to which targets are added."""
        return ["make", f"O={self.dir}", *arch_env(self.arch)]


def arch_env(arch: str) -> list[str]:
    """The make variables that select `arch` and its Debian cross compiler."""
    if arch in ("x86_64", "x86"):
        return []
    if arch not in CROSS:
        raise RefactorError(f"no cross compiler known for ARCH={arch}: use one of x86_64, {', '.join(CROSS)}")
    if shutil.which(CROSS[arch] + "gcc") is None:
        package = "gcc-" + CROSS[arch].rstrip("-")
        raise RefactorError(f"{CROSS[arch]}gcc not found: install Debian's package {package} for ARCH={arch}")
    return [f"ARCH={arch}", f"CROSS_COMPILE={CROSS[arch]}"]


def build_dir(tree: Path, arch: str) -> Path:
    name = hashlib.sha256(str(tree.resolve()).encode()).hexdigest()[:10]
    return cache_dir() / "build" / f"{tree.name}-{name}-{arch}-allmodconfig"


def build_lock(build: Path) -> Path:
    """The lock file of a build directory: held by whoever runs make in it."""
    return build.with_name(build.name + ".lock")


def making(build: Build) -> contextlib.AbstractContextManager[None]:
    """Hold `build`'s directory for one make: two runs' makes (a verification and a
    series' bisect check) would rebuild the same host tools at once and run a half-written
    one ("Error 126")."""
    return _lock(build_lock(build.dir))


@contextlib.contextmanager
def _lock(path: Path) -> Iterator[None]:
    """An flock on `path`: a second run preparing the same directory waits for the first
    (the kernel drops the lock when the holder ends, however it ends)."""
    path.parent.mkdir(parents=True, exist_ok=True)
    fd = os.open(path, os.O_RDWR | os.O_CREAT, 0o644)
    try:
        fcntl.flock(fd, fcntl.LOCK_EX)
        yield
    finally:
        os.close(fd)


def prepare_build(tree: Path, work: Path, arch: str = "x86_64", jobs: int = 2) -> Build:
    """The build directory for `tree` and `arch` in the cache, prepared once."""
    build = build_dir(tree, arch)
    env = arch_env(arch)
    done = build / ".drmm-prepared"  # written last: a directory whose prepare failed is redone
    if not done.is_file() and (why := prereqs.check((arch,), git=git.is_repo(work))):
        raise RefactorError(why)  # before make: its Error 127 names no package
    with _lock(build_lock(build)):
        if not done.is_file():
            build.mkdir(parents=True, exist_ok=True)
            targets = [[f"-j{jobs}", "prepare"]]
            if not (build / ".config").is_file():
                targets.insert(0, ["allmodconfig"])
            for target in targets:
                res = proc.run(["make", f"O={build}", *env, *target], cwd=work, timeout=3600)
                if not res.ok:
                    raise RefactorError(
                        f"make ARCH={arch} {' '.join(target)} failed: {first_error(res.stdout + res.stderr)}"
                    )
            done.write_text(f"{arch} allmodconfig prepare\n")
    config = {}
    for line in (build / ".config").read_text(errors="replace").splitlines():
        if line.startswith("CONFIG_") and "=" in line:
            k, v = line.split("=", 1)
            config[k] = v
    cc = proc.run([_compiler(arch), "--version"], timeout=60).stdout.splitlines()[:1]
    key = hashlib.sha256((build / ".config").read_bytes() + "".join(cc).encode()).hexdigest()[:16]
    return Build(build, arch, config, key)


def _compiler(arch: str) -> str:
    return CROSS.get(arch, "") + "gcc"


@dataclass
class Builds:
    """The build directories of one verification run, prepared when first asked for.
    With `forced` (--arch), every patch is built for that architecture."""

    tree: Path
    work: Path
    jobs: int = 2
    forced: str = ""
    _made: dict[str, Build | RefactorError] = field(default_factory=dict)

    def get(self, arch: str) -> Build:
        if arch not in self._made:
            try:
                self._made[arch] = prepare_build(self.tree, self.work, arch, self.jobs)
            except RefactorError as exc:
                self._made[arch] = exc
        made = self._made[arch]
        if isinstance(made, RefactorError):
            raise made
        return made

    def choose(self, directory: str, symbol: str, skip: Sequence[str] = ()) -> tuple[Build | None, str]:
        """The build for a module in `directory` with Kconfig `symbol`: the first
        architecture its dependencies allow whose allmodconfig enables it (not one of
        `skip`).  (None, why) when there is none: the symbol and the architectures tried.
        Raises when no architecture it could be built for can be prepared."""
        if self.forced:
            return self.get(self.forced), ""
        arches = tuple(a for a in kconfig.arches_for(self.tree, directory, symbol) if a not in skip)
        if not arches:
            return None, f"{symbol}: its Kconfig dependencies allow none of {', '.join(kconfig.ARCHES)}"
        tried, failed = [], []
        for arch in arches:
            try:
                build = self.get(arch)
            except RefactorError as exc:
                failed.append(f"{arch}: {exc}")
                continue
            if build.enabled(symbol):
                return build, ""
            tried.append(arch)
        if not tried:  # no architecture could be prepared: nothing was learnt about the driver
            raise RefactorError("; ".join(failed))
        why = f"{symbol} is not enabled by the allmodconfig of {', '.join(tried)}"
        return None, "; ".join([why, *(f"no build directory for {f}" for f in failed)])


def first_error(text: str) -> str:
    """The line of make's output that says what went wrong."""
    for line in text.splitlines():
        if ": error:" in line or "*** " in line or "No rule to make target" in line:
            return line.strip()[:300]
    lines = [x for x in text.splitlines() if x.strip()]
    return lines[-1].strip()[:300] if lines else "no output"


class ResultCache(Store):
    """The verification results (compiles, checkpatch, proofs, re-sweep states): dicts
    keyed by a hash of everything that decides them, in the cache's `Store` (each entry
    checked by a digest, and pruned with the rest when unused for a month)."""

    def get(self, key: str) -> dict[str, Any] | None:
        value = super().get(key)
        return value if isinstance(value, dict) else None

    def put(self, key: str, value: dict[str, Any]) -> None:
        super().put(key, value)


def compile_file(work: Path, build: Build, rel: str, cache: ResultCache, salt: bytes = b"") -> dict[str, Any]:
    """Compile one .c file with W=1: {"ok", "log", "error", "warnings"}.  The result is
    cached by the file's text; `salt` adds what else decides it (headers changed)."""
    content = (work / rel).read_bytes()
    parts = [FORMAT, b"cc1", build.key.encode(), rel.encode(), content, *([salt] if salt else [])]
    key = hashlib.sha256(b"\0".join(parts)).hexdigest()
    hit = cache.get(key)
    # older entries also held failures of make itself
    if hit is not None and (hit["ok"] or compiler_failed(hit["log"])):
        return hit
    obj = rel[:-2] + ".o"
    # The object is removed first, so make compiles this text even when the file's mtime
    # is older than an object built from another text (a restored hard link).
    with making(build):
        (build.dir / obj).unlink(missing_ok=True)
        # allmodconfig sets CONFIG_WERROR: keep warnings warnings, so that a new one is
        # told apart from a build failure
        res = proc.run([*build.make(), "W=1", "KCFLAGS=-Wno-error", obj], cwd=work, timeout=1800)
    out = res.stdout + res.stderr
    warnings = sorted({f"{m.group('file').split('/')[-1]}: {m.group('msg')}" for line in out.splitlines()
                       if (m := _WARNING.match(line.strip())) and m.group("kind") == "warning"})  # fmt: skip
    error = "" if res.ok else first_error(out)
    value = {"ok": res.ok, "log": out[-4000:], "error": error, "warnings": warnings}
    if res.ok or compiler_failed(out):
        cache.put(key, value)  # a failure of make itself (a host tool, a timeout) is not the text's
    return value


def compiler_failed(out: str) -> bool:
    """Whether make's output holds a compiler error in a source file: the failure belongs
    to the text compiled, and can be cached by it.  Anything else (a host tool that could
    not run, `Error 126`/`127`, a timeout, no rule to make the object) is the build
    environment's, and is tried again next time."""
    return any(_COMPILER_ERROR.match(line.strip()) for line in out.splitlines())
