"""Boot the guest kernel under QEMU with virtme-ng (`vng`) and run the scenario in it.

vng boots the built bzImage with the host's root filesystem (read-only, over 9p or
virtiofs), so the guest runs the host's python3 on `guest_scenario.py` straight from the
package.  `-v` puts the kernel's console on vng's output: the log the parser reads.  KVM is
used when /dev/kvm is usable, TCG otherwise (slower: a longer timeout).

The device models: which QEMU device each driver binds to, and the name of its driver in
sysfs (where the scenario unbinds it).  A driver without one is not runnable, with the
reason.
"""

from __future__ import annotations

import os
import shutil
import sys
from dataclasses import dataclass
from pathlib import Path

from refactor.infra import proc
from refactor.infra.errors import RefactorError
from refactor.prove import logparse

SCENARIO = Path(__file__).with_name("guest_scenario.py")
STDOUT_MARK = logparse.STDOUT_MARK
# kasan_multi_shot: every report, not only the first; the rest keeps the guest going
# after a report so that the scenario's later steps still run; no_timer_check: under TCG on
# a loaded host the IO-APIC timer check fails ("IO-APIC + timer doesn't work", a panic)
# printk.devkmsg=on: the scenario's lines in /dev/kmsg are not rate-limited away
# root=/dev/root: the guest's root is the host's, exported over 9p under virtme-ng's mount
# tag /dev/root (--force-9p below); since the kernel's nullfs root (7.x), a 9p root
# mounted without root= has an empty source and the boot stops at "Failed to pivot into
# new rootfs"
CMDLINE = ("root=/dev/root", "kasan_multi_shot", "panic_on_warn=0", "ignore_loglevel", "no_timer_check",
           "printk.devkmsg=on")  # fmt: skip


@dataclass(frozen=True)
class DeviceModel:
    """How to run one driver under QEMU; `reason` set: it cannot be run, and why."""

    driver: str  # the module name the sweep reports it under
    paths: tuple[str, ...]  # where its sources are (for the sweep of that driver)
    sysfs_driver: str = ""  # the driver's directory name under /sys/bus/*/drivers
    qemu: tuple[str, ...] = ()
    reason: str = ""


MODELS = {
    m.driver: m
    for m in (
        DeviceModel("bochs", ("drivers/gpu/drm/tiny/bochs.c",), "bochs-drm", ("-device", "bochs-display")),
        DeviceModel(
            "cirrus-qemu", ("drivers/gpu/drm/tiny/cirrus-qemu.c",), "cirrus-qemu", ("-device", "cirrus-vga")
        ),  # fmt: skip
        DeviceModel("qxl", ("drivers/gpu/drm/qxl",), "qxl", ("-device", "qxl-vga")),
        DeviceModel("virtio-gpu", ("drivers/gpu/drm/virtio",), "virtio_gpu", ("-device", "virtio-gpu-pci")),
        # a faux device created by the module itself: no QEMU device
        DeviceModel("vkms", ("drivers/gpu/drm/vkms",), "faux_driver"),
        DeviceModel(
            "simpledrm",
            ("drivers/gpu/drm/sysfb",),
            reason="needs a firmware framebuffer no other built-in driver takes over "
            "(bochs claims -vga std's); not set up",
        ),  # fmt: skip
    )
}


@dataclass(frozen=True)
class GuestRun:
    """One boot: the console log and the scenario's stdout (both written to `log_path`) and
    how it ended."""

    driver: str
    label: str  # before / after
    log_path: Path
    console: str  # the kernel's console, with the scenario's lines from /dev/kmsg in it
    stdout: str
    seconds: float
    returncode: int
    timed_out: bool
    kvm: bool


def venv_tool(name: str) -> str | None:
    """A command on PATH, or beside the running Python (the venv's bin, not always on PATH)."""
    beside = Path(sys.executable).parent / name
    return shutil.which(name) or (str(beside) if os.access(beside, os.X_OK) else None)


def kvm_usable() -> bool:
    """KVM works here: /dev/kvm is usable and the CPU has hardware virtualization (vmx or
    svm).  A /dev/kvm without them (a microVM's nested KVM) fails on the first instruction
    it must emulate ("KVM internal error ... emulation failure"): TCG then."""
    if not os.access("/dev/kvm", os.R_OK | os.W_OK):
        return False
    try:
        lines = Path("/proc/cpuinfo").read_text().splitlines()
    except OSError:
        return False
    flags = next((ln for ln in lines if ln.startswith("flags")), "")
    return bool({"vmx", "svm"} & set(flags.split()))


def missing_runner() -> str | None:
    """Why no guest can be booted here, or None: vng and QEMU on PATH."""
    if venv_tool("vng") is None:
        return "vng not found: install the prove extra (pip install 'drmm-refactor[prove]', or ./run setup)"
    if shutil.which("qemu-system-x86_64") is None:
        return "qemu-system-x86_64 not found: install Debian's package qemu-system-x86 (./run setup)"
    return None


def model_of(driver: str) -> DeviceModel:
    """The device model of `driver`; one with `reason` set when there is none."""
    known = MODELS.get(driver)
    if known is not None:
        return known
    return DeviceModel(driver, (), reason=f"no QEMU device model for {driver} "
                       f"(prove runs {', '.join(m for m in MODELS if not MODELS[m].reason)})")  # fmt: skip


def boot(
    image: Path, model: DeviceModel, label: str, log_path: Path, timeout: float | None = None
) -> GuestRun:
    """Boot `image` with the driver's device and run the scenario; the console is the log."""
    vng = venv_tool("vng")
    if vng is None or model.reason:
        raise RefactorError(missing_runner() or model.reason)
    kvm = kvm_usable()
    argv = [vng, "--run", str(image), "--disable-microvm", "--verbose", "--memory", "2G", "--cpus", "2",
            "--force-9p", "--append", " ".join(CMDLINE),
            "--exec", f"python3 {SCENARIO} {model.sysfs_driver}"]  # fmt: skip
    if model.qemu:  # `=`: the value starts with a dash
        argv.append("--qemu-opts=" + " ".join(model.qemu))
    if not kvm:
        argv.append("--disable-kvm")
    log_path.parent.mkdir(parents=True, exist_ok=True)
    # vng starts virtme-run from PATH: the venv's bin first
    path = f"{Path(vng).parent}{os.pathsep}{os.environ.get('PATH', '')}"
    done = proc.run(argv, cwd=log_path.parent, env={"PATH": path}, timeout=timeout or (300 if kvm else 1800))
    # vng: the console on stderr, the command's output on stdout
    log_path.write_text(done.stderr + "\n" + STDOUT_MARK + "\n" + done.stdout)
    return GuestRun(model.driver, label, log_path, done.stderr, done.stdout, done.seconds, done.returncode,
                    done.timed_out, kvm)  # fmt: skip
