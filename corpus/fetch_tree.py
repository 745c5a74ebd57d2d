#!/usr/bin/env python3
# SPDX-License-Identifier: GPL-2.0-only
"""Bring a real Linux source tree from Debian's packages into a cache outside the repo.

    corpus/fetch_tree.py 7.2 [--git] [--refresh] [--cache DIR]

prints the path of the extracted tree (the directory holding the top Makefile).

`linux-source-X.Y` is looked up in the machine's own Debian suite (6.1, 6.12 on
bookworm) and in sid (7.x).  All apt state is private to the cache: the source list
is built from the Debian mirrors the machine already uses, and apt is pointed at it
with `Dir::Etc::SourceList`, `Dir::State::Lists` and `Dir::Cache`, so the machine's own
apt configuration and state are never touched.  Only the standard library is used, so
the script runs before the project is installed.
"""

from __future__ import annotations

import argparse
import fcntl
import os
import re
import shutil
import subprocess
import sys
import tempfile
import time
from pathlib import Path

APT_LIST_MAX_AGE = 24 * 3600
GIT_ENV = {
    "GIT_AUTHOR_NAME": "drmm-refactor",
    "GIT_AUTHOR_EMAIL": "drmm-refactor@localhost",
    "GIT_COMMITTER_NAME": "drmm-refactor",
    "GIT_COMMITTER_EMAIL": "drmm-refactor@localhost",
    "GIT_AUTHOR_DATE": "2000-01-01T00:00:00Z",
    "GIT_COMMITTER_DATE": "2000-01-01T00:00:00Z",
}


class FetchError(Exception):
    """A tree could not be brought; the message says why."""


def cache_root(explicit: str | None) -> Path:
    if explicit:
        return Path(explicit)
    if os.environ.get("DRMM_REFACTOR_CACHE"):
        return Path(os.environ["DRMM_REFACTOR_CACHE"])
    xdg = os.environ.get("XDG_CACHE_HOME") or str(Path.home() / ".cache")
    return Path(xdg) / "drmm-refactor"


def run(cmd: list[str], cwd: Path | None = None, env: dict[str, str] | None = None) -> str:
    full_env = dict(os.environ, **(env or {}))
    proc = subprocess.run(cmd, cwd=cwd, env=full_env, capture_output=True, text=True)
    if proc.returncode != 0:
        tail = (proc.stderr or proc.stdout).strip().splitlines()[-3:]
        raise FetchError(f"{' '.join(cmd[:3])} failed: {' / '.join(tail)}")
    return proc.stdout


def machine_debian_sources() -> tuple[list[str], str, str]:
    """One-line `deb` entries of the machine's Debian suites, its codename and mirror URI."""
    osr = Path("/etc/os-release").read_text()
    m = re.search(r"^VERSION_CODENAME=\"?(\w+)", osr, re.M)
    if not m:
        raise FetchError("cannot tell the Debian codename from /etc/os-release")
    codename = m.group(1)
    entries: list[tuple[str, str, str]] = []  # (uri, suite, components)
    files = [Path("/etc/apt/sources.list")]
    parts = Path("/etc/apt/sources.list.d")
    if parts.is_dir():
        files += sorted(parts.iterdir())
    for f in files:
        if not f.is_file():
            continue
        text = f.read_text(errors="replace")
        if f.suffix == ".sources":
            for stanza in re.split(r"\n\s*\n", text):
                fields = dict(
                    (k.strip().lower(), v.strip())
                    for k, v in (
                        ln.split(":", 1) for ln in stanza.splitlines() if ":" in ln and not ln.startswith("#")
                    )
                )
                if "deb" not in fields.get("types", "").split():
                    continue
                for uri in fields.get("uris", "").split():
                    for suite in fields.get("suites", "").split():
                        entries.append((uri, suite, fields.get("components", "main")))
        else:
            for ln in text.splitlines():
                ln = re.sub(r"\[[^]]*\]", "", ln.split("#", 1)[0]).split()
                if len(ln) >= 3 and ln[0] == "deb":
                    entries.append((ln[1], ln[2], " ".join(ln[3:]) or "main"))
    debian = [e for e in entries if e[1].split("-")[0] == codename]
    if not debian:
        raise FetchError(f"no apt source for the machine's suite '{codename}' found")
    mirror = next((u for u, s, _ in debian if s == codename), debian[0][0])
    keyring = "/usr/share/keyrings/debian-archive-keyring.gpg"
    lines = [f"deb [signed-by={keyring}] {u} {s} {c}" for u, s, c in debian]
    lines.append(f"deb [signed-by={keyring}] {mirror} sid main")
    return lines, codename, mirror


class PrivateApt:
    """apt-get and apt-cache pointed at a source list and state inside the cache."""

    def __init__(self, root: Path) -> None:
        self.root = root
        for sub in ("lists/partial", "cache/archives/partial"):
            (root / sub).mkdir(parents=True, exist_ok=True)
        lines, _, _ = machine_debian_sources()
        (root / "sources.list").write_text("\n".join(lines) + "\n")
        self.opts = [
            "-o",
            f"Dir::Etc::SourceList={root / 'sources.list'}",
            "-o",
            "Dir::Etc::SourceParts=/dev/null",
            "-o",
            f"Dir::State::Lists={root / 'lists'}",
            "-o",
            f"Dir::Cache={root / 'cache'}",
            "-o",
            "Debug::NoLocking=1",
        ]

    def update(self, force: bool = False) -> None:
        stamp = self.root / "updated"
        if not force and stamp.exists() and time.time() - stamp.stat().st_mtime < APT_LIST_MAX_AGE:
            return
        run(["apt-get", *self.opts, "update"])
        stamp.touch()

    def candidate(self, package: str) -> str | None:
        out = run(["apt-cache", *self.opts, "policy", package])
        m = re.search(r"Candidate:\s*(\S+)", out)
        return m.group(1) if m and m.group(1) != "(none)" else None

    def download(self, package: str, dest: Path) -> Path:
        run(["apt-get", *self.opts, "download", package], cwd=dest)
        debs = sorted(dest.glob(f"{package}_*.deb"))
        if not debs:
            raise FetchError(f"apt-get download {package} produced no .deb")
        return debs[-1]


def extract(deb: Path, workdir: Path, series: str) -> Path:
    """Unpack the .deb, then the tarball inside it; return the tree's top directory."""
    pkgdir = workdir / "deb"
    run(["dpkg-deb", "-x", str(deb), str(pkgdir)])
    tarballs = list((pkgdir / "usr/src").glob(f"linux-source-{series}.tar.*"))
    if not tarballs:
        raise FetchError(f"{deb.name} holds no linux-source-{series} tarball")
    run(["tar", "-xf", str(tarballs[0]), "-C", str(workdir)])
    shutil.rmtree(pkgdir)
    top = workdir / f"linux-source-{series}"
    if not (top / "Makefile").is_file():
        raise FetchError(f"tarball of {deb.name} has no linux-source-{series}/Makefile")
    return top


def make_git(top: Path) -> None:
    """One commit holding every file; Debian's .gitignore ignores the top level, so add -f."""
    run(["git", "init", "-q", "-b", "master"], cwd=top)
    run(["git", "add", "-f", "-A", "."], cwd=top)
    run(
        [
            "git",
            "commit",
            "-q",
            "--no-verify",
            "--no-gpg-sign",
            "-m",
            f"Linux {top.name} from Debian's packages",
        ],
        cwd=top,
        env=GIT_ENV,
    )


def fetch(series: str, cache: Path, want_git: bool, refresh: bool) -> Path:
    if not re.fullmatch(r"\d+\.\d+", series):
        raise FetchError(f"'{series}' is not a kernel series like 6.12")
    trees = cache / "trees"
    trees.mkdir(parents=True, exist_ok=True)
    with open(trees / ".lock", "w") as lock:
        fcntl.flock(lock, fcntl.LOCK_EX)
        final = trees / f"linux-{series}"
        top = final / f"linux-source-{series}"
        if refresh and final.exists():
            shutil.rmtree(final)
        if not (final / "complete").exists():
            apt = PrivateApt(cache / "apt")
            package = f"linux-source-{series}"
            apt.update()
            if apt.candidate(package) is None:
                apt.update(force=True)
                if apt.candidate(package) is None:
                    raise FetchError(f"no Debian package {package} in the machine's suite or sid")
            with tempfile.TemporaryDirectory(dir=trees, prefix=f".linux-{series}-") as tmp:
                work = Path(tmp)
                deb = apt.download(package, work)
                (work / "tree").mkdir()
                extract(deb, work / "tree", series)
                (work / "tree" / "package").write_text(deb.name + "\n")
                (work / "tree" / "complete").touch()
                if final.exists():
                    shutil.rmtree(final)
                (work / "tree").rename(final)
        if want_git and not (final / "git-complete").exists():
            if (top / ".git").exists():
                shutil.rmtree(top / ".git")
            make_git(top)
            (final / "git-complete").touch()
        return top


def main(argv: list[str] | None = None) -> int:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("series", help="kernel series, e.g. 6.1, 6.12 or 7.2")
    ap.add_argument("--git", action="store_true", help="make the tree a git repository")
    ap.add_argument("--refresh", action="store_true", help="fetch again even if cached")
    ap.add_argument("--cache", help="cache directory (default: XDG cache home/drmm-refactor)")
    args = ap.parse_args(argv)
    try:
        print(fetch(args.series, cache_root(args.cache), args.git, args.refresh))
    except FetchError as exc:
        print(f"fetch_tree: {exc}", file=sys.stderr)
        return 2
    return 0


if __name__ == "__main__":
    sys.exit(main())
