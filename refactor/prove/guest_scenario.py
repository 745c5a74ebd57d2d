"""The scenario `drmm-refactor prove` runs inside the guest (standard library only).

    python3 guest_scenario.py SYSFS_DRIVER

It opens the card whose device is bound to SYSFS_DRIVER, creates two dumb buffers, sets a
mode and flips, keeps the fd and the mapping, unbinds the device through sysfs while two
children keep committing on the same fd, then uses the old fd (ioctls, the old mapping,
a page flip) and closes it, and rebinds.  Each step prints one `drmm-prove:` line with its
outcome; the kernel's own reports (KASAN, BUG, WARNING, lockdep) reach the console, which
the host reads.  Steps after the unbind are expected to fail with ENODEV: what matters is
what the kernel says while they do.

This file is run by the guest's python3 (the host's root filesystem, read-only): it must
not import anything from the package.
"""

from __future__ import annotations

import contextlib
import ctypes
import errno
import fcntl
import mmap
import os
import signal
import sys
import time

u32 = ctypes.c_uint32
u64 = ctypes.c_uint64
u16 = ctypes.c_uint16


def _iowr(nr: int, size: int) -> int:
    return (3 << 30) | (size << 16) | (ord("d") << 8) | nr


class ModeInfo(ctypes.Structure):
    _fields_ = [
        ("clock", u32),
        ("hdisplay", u16),
        ("hsync_start", u16),
        ("hsync_end", u16),
        ("htotal", u16),
        ("hskew", u16),
        ("vdisplay", u16),
        ("vsync_start", u16),
        ("vsync_end", u16),
        ("vtotal", u16),
        ("vscan", u16),
        ("vrefresh", u32),
        ("flags", u32),
        ("type", u32),
        ("name", ctypes.c_char * 32),
    ]


class CardRes(ctypes.Structure):
    _fields_ = [(n, u64) for n in ("fb_id_ptr", "crtc_id_ptr", "connector_id_ptr", "encoder_id_ptr")] + [
        (n, u32)
        for n in (
            "count_fbs",
            "count_crtcs",
            "count_connectors",
            "count_encoders",
            "min_width",
            "max_width",
            "min_height",
            "max_height",
        )
    ]


class GetConnector(ctypes.Structure):
    _fields_ = [(n, u64) for n in ("encoders_ptr", "modes_ptr", "props_ptr", "prop_values_ptr")] + [
        (n, u32)
        for n in (
            "count_modes",
            "count_props",
            "count_encoders",
            "encoder_id",
            "connector_id",
            "connector_type",
            "connector_type_id",
            "connection",
            "mm_width",
            "mm_height",
            "subpixel",
            "pad",
        )
    ]


class CreateDumb(ctypes.Structure):
    _fields_ = [(n, u32) for n in ("height", "width", "bpp", "flags", "handle", "pitch")] + [("size", u64)]


class MapDumb(ctypes.Structure):
    _fields_ = [("handle", u32), ("pad", u32), ("offset", u64)]


class FbCmd(ctypes.Structure):
    _fields_ = [(n, u32) for n in ("fb_id", "width", "height", "pitch", "bpp", "depth", "handle")]


class Crtc(ctypes.Structure):
    _fields_ = (
        [("set_connectors_ptr", u64)]
        + [(n, u32) for n in ("count_connectors", "crtc_id", "fb_id", "x", "y", "gamma_size", "mode_valid")]
        + [("mode", ModeInfo)]
    )


class PageFlip(ctypes.Structure):
    _fields_ = [(n, u32) for n in ("crtc_id", "fb_id", "flags", "reserved")] + [("user_data", u64)]


class DirtyFb(ctypes.Structure):
    _fields_ = [(n, u32) for n in ("fb_id", "flags", "color", "num_clips")] + [("clips_ptr", u64)]


class Handle(ctypes.Structure):
    _fields_ = [("handle", u32), ("pad", u32)]


GETRESOURCES = _iowr(0xA0, ctypes.sizeof(CardRes))
GETCRTC = _iowr(0xA1, ctypes.sizeof(Crtc))
SETCRTC = _iowr(0xA2, ctypes.sizeof(Crtc))
GETCONNECTOR = _iowr(0xA7, ctypes.sizeof(GetConnector))
ADDFB = _iowr(0xAE, ctypes.sizeof(FbCmd))
RMFB = _iowr(0xAF, 4)
PAGE_FLIP = _iowr(0xB0, ctypes.sizeof(PageFlip))
DIRTYFB = _iowr(0xB1, ctypes.sizeof(DirtyFb))
CREATE_DUMB = _iowr(0xB2, ctypes.sizeof(CreateDumb))
MAP_DUMB = _iowr(0xB3, ctypes.sizeof(MapDumb))
DESTROY_DUMB = _iowr(0xB4, 4)
GEM_CLOSE = (1 << 30) | (ctypes.sizeof(Handle) << 16) | (ord("d") << 8) | 0x09


HAMMER_SECONDS = 3.0


def sysfs_write(path: str, text: str) -> str:
    """Write to a sysfs attribute: "ok" or the errno (a failed bind is an outcome)."""
    try:
        fd = os.open(path, os.O_WRONLY)
        try:
            os.write(fd, text.encode())
        finally:
            os.close(fd)
    except OSError as e:
        return f"errno {e.errno} ({e.strerror})"
    return "ok"


_KMSG: list[int] = []


def say(step: str, outcome: str) -> None:
    """One step's outcome, on stdout and in the kernel log: there it lands between the
    kernel's own reports, in order (vng gives the console and stdout separate channels)."""
    line = f"drmm-prove: {step}: {outcome}"
    print(line, flush=True)
    if not _KMSG:
        try:
            _KMSG.append(os.open("/dev/kmsg", os.O_WRONLY))
        except OSError:
            _KMSG.append(-1)
    if _KMSG[0] >= 0:
        with contextlib.suppress(OSError):
            os.write(_KMSG[0], line.encode() + b"\n")


def ioctl(fd: int, req: int, arg: ctypes.Structure | ctypes.c_uint32) -> None:
    fcntl.ioctl(fd, req, arg, True)


def step(name: str, fn, *args):  # type: ignore[no-untyped-def]
    """Run one step, print its outcome; an OSError is an outcome, not a failure."""
    try:
        value = fn(*args)
    except OSError as e:
        say(name, f"errno {e.errno} ({errno.errorcode.get(e.errno or 0, '?')}: {e.strerror})")
        return None
    say(name, "ok")
    return value if value is not None else True


def find_card(driver: str) -> tuple[str, str, str] | None:
    """(device node, sysfs device name, sysfs driver directory) of the first card of `driver`."""
    base = "/sys/class/drm"
    for name in sorted(os.listdir(base)):
        if not name.startswith("card") or "-" in name:
            continue
        link = os.path.join(base, name, "device", "driver")
        if os.path.basename(os.path.realpath(link)) == driver:
            dev = os.path.basename(os.path.realpath(os.path.join(base, name, "device")))
            return f"/dev/dri/{name}", dev, os.path.realpath(link)
    return None


def resources(fd: int) -> tuple[list[int], list[int]]:
    res = CardRes()
    ioctl(fd, GETRESOURCES, res)
    crtcs = (u32 * max(res.count_crtcs, 1))()
    conns = (u32 * max(res.count_connectors, 1))()
    n_crtcs, n_conns = res.count_crtcs, res.count_connectors
    res = CardRes(
        crtc_id_ptr=ctypes.addressof(crtcs),
        connector_id_ptr=ctypes.addressof(conns),
        count_crtcs=n_crtcs,
        count_connectors=n_conns,
    )
    ioctl(fd, GETRESOURCES, res)
    return list(crtcs)[:n_crtcs], list(conns)[:n_conns]


def first_mode(fd: int, connector: int) -> ModeInfo | None:
    c = GetConnector(connector_id=connector)
    ioctl(fd, GETCONNECTOR, c)
    if not c.count_modes:
        return None
    modes = (ModeInfo * c.count_modes)()
    c2 = GetConnector(connector_id=connector, modes_ptr=ctypes.addressof(modes), count_modes=c.count_modes)
    ioctl(fd, GETCONNECTOR, c2)
    return modes[0]


def dumb_fb(fd: int, width: int, height: int) -> tuple[int, int, int]:
    """(gem handle, fb id, size) of a new 32 bpp dumb buffer with a framebuffer on it."""
    d = CreateDumb(height=height, width=width, bpp=32)
    ioctl(fd, CREATE_DUMB, d)
    fb = FbCmd(width=width, height=height, pitch=d.pitch, bpp=32, depth=24, handle=d.handle)
    ioctl(fd, ADDFB, fb)
    return d.handle, fb.fb_id, d.size


def map_dumb(fd: int, handle: int, size: int) -> mmap.mmap:
    m = MapDumb(handle=handle)
    ioctl(fd, MAP_DUMB, m)
    return mmap.mmap(fd, size, mmap.MAP_SHARED, mmap.PROT_READ | mmap.PROT_WRITE, offset=m.offset)


def set_crtc(fd: int, crtc: int, connector: int, fb: int, mode: ModeInfo | None) -> None:
    conn = (u32 * 1)(connector)
    c = Crtc(crtc_id=crtc, fb_id=fb if mode else 0)
    if mode is not None:
        c.set_connectors_ptr, c.count_connectors = ctypes.addressof(conn), 1
        c.mode, c.mode_valid = mode, 1
    ioctl(fd, SETCRTC, c)


def hammer(fd: int, crtc: int, connector: int, fbs: list[int], mode: ModeInfo) -> None:
    """Commit on the shared fd for HAMMER_SECONDS or until it says ENODEV (the unplug), to
    race the driver's removal with commits in flight."""
    end = time.monotonic() + HAMMER_SECONDS
    i = 0
    while time.monotonic() < end:
        i += 1
        try:
            set_crtc(fd, crtc, connector, fbs[i % 2], mode if i % 3 else None)
            ioctl(fd, DIRTYFB, DirtyFb(fb_id=fbs[i % 2]))
        except OSError as e:
            if e.errno == errno.ENODEV:
                break
    os._exit(0)


def touch(mapping: mmap.mmap) -> None:
    """Write and read the old mapping in a child: a SIGBUS is an outcome, not our end."""
    pid = os.fork()
    if pid == 0:
        mapping[0:4] = b"\xff\x00\xff\x00"
        os._exit(0 if mapping[0] == 0xFF else 1)
    _, status = os.waitpid(pid, 0)
    if os.WIFSIGNALED(status):
        raise OSError(errno.EFAULT, f"signal {signal.Signals(os.WTERMSIG(status)).name}")


# about 80 lines: the guest's whole scenario in order (open the DRM file, unbind, use the
# file, close, rebind), one step after the other as the proof's log reports them
def main() -> int:
    driver = sys.argv[1]
    say("start", f"{driver} on Linux {os.uname().release}")
    card = None
    for _ in range(50):  # the driver may bind a moment after userspace starts
        card = find_card(driver)
        if card:
            break
        time.sleep(0.1)
    if card is None:
        say("not-runnable", f"no card of driver {driver} in /sys/class/drm")
        return 3
    node, device, drvdir = card
    say("card", f"{node} device {device} driver {drvdir}")
    if not os.path.exists(os.path.join(drvdir, "unbind")):
        say("not-runnable", f"{drvdir} has no unbind attribute (suppress_bind_attrs)")
        return 3
    fd = os.open(node, os.O_RDWR | os.O_CLOEXEC)
    crtcs, conns = resources(fd)
    mode = None
    connector = 0
    for c in conns:
        mode = first_mode(fd, c)
        if mode is not None:
            connector = c
            break
    if not crtcs or mode is None:
        say(
            "not-runnable",
            f"no CRTC or no connector with a mode ({len(crtcs)} CRTCs, {len(conns)} connectors)",
        )
        return 3
    w, h = mode.hdisplay, mode.vdisplay
    say("mode", f"{w}x{h} on CRTC {crtcs[0]} connector {connector}")
    h1, fb1, size = dumb_fb(fd, w, h)
    h2, fb2, _ = dumb_fb(fd, w, h)
    mapping = map_dumb(fd, h1, size)
    mapping[0:4] = b"\x00\xff\x00\xff"
    step("modeset", set_crtc, fd, crtcs[0], connector, fb1, mode)
    step("page-flip", ioctl, fd, PAGE_FLIP, PageFlip(crtc_id=crtcs[0], fb_id=fb2))
    time.sleep(0.1)
    say("phase", "unbind")
    kids = []
    for _ in range(2):
        pid = os.fork()
        if pid == 0:
            hammer(fd, crtcs[0], connector, [fb1, fb2], mode)
        kids.append(pid)
    time.sleep(0.05)
    unbound = sysfs_write(os.path.join(drvdir, "unbind"), device)
    for pid in kids:
        os.waitpid(pid, 0)
    say("unbind", "done" if unbound == "ok" else unbound)
    say("phase", "after-unbind")
    step("getresources", resources, fd)
    step("getconnector", first_mode, fd, connector)
    step("create-dumb", dumb_fb, fd, w, h)
    step("map-dumb", map_dumb, fd, h2, size)
    step("modeset", set_crtc, fd, crtcs[0], connector, fb2, mode)
    step("page-flip", ioctl, fd, PAGE_FLIP, PageFlip(crtc_id=crtcs[0], fb_id=fb1))
    step("dirtyfb", ioctl, fd, DIRTYFB, DirtyFb(fb_id=fb1))
    step("touch-old-mapping", touch, mapping)
    step("rmfb", ioctl, fd, RMFB, u32(fb2))
    step("destroy-dumb", ioctl, fd, DESTROY_DUMB, u32(h2))
    step("gem-close", ioctl, fd, GEM_CLOSE, Handle(handle=h1))
    mapping.close()
    step("close", os.close, fd)
    time.sleep(0.5)  # the last reference drops in deferred work
    say("phase", "rebind")
    say("bind", sysfs_write(os.path.join(drvdir, "bind"), device))
    time.sleep(0.5)
    again = find_card(driver)
    if again:
        fd = os.open(again[0], os.O_RDWR | os.O_CLOEXEC)
        step("rebound-getresources", resources, fd)
        os.close(fd)
    else:
        say("rebind", "no card after bind")
    time.sleep(1)
    say("done", driver)
    return 0


if __name__ == "__main__":
    sys.exit(main())
