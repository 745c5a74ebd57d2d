"""prove: the console log parser on recorded guest logs, the verdicts, the guest scenario's
ioctl structures against the tree's uapi headers, and the scenario on a real tree under
QEMU (slow: builds a kernel the first time)."""

from __future__ import annotations

import ctypes
import json
import lzma
import os
import subprocess
from pathlib import Path

import pytest
from click.testing import CliRunner

from refactor.cli import main
from refactor.prove import guest_scenario, logparse, runner, stage, verdict

DATA = Path(__file__).parent / "data" / "prove"


def _log(name: str) -> logparse.GuestLog:
    path = DATA / name
    text = lzma.decompress(path.read_bytes()).decode() if name.endswith(".xz") else path.read_text()
    return logparse.parse(text)


def _run(label: str, name: str) -> verdict.Run:
    return verdict.run_of(label, str(DATA / name), 1.0, True, _log(name))


RECORDED = "bochs-6.12-debian-tcg.log"  # our own run: Debian's 6.12 kernel, bochs, TCG


def test_recorded_run_steps_in_order_and_no_report() -> None:
    """A real guest console (the scenario's lines came through /dev/kmsg): every step, in
    order, the unbind under the open fd, ENODEV on the old fd afterwards, no report."""
    log = _log(RECORDED)
    assert log.finished
    names = [s for s, _ in log.steps]
    assert names[:3] == ["start", "card", "mode"]
    assert names.index("unbind") < names.index("getresources") < names.index("close") < names.index("bind")
    steps = dict(log.steps)
    assert steps["unbind"] == "done" and steps["bind"] == "ok" and steps["rebound-getresources"] == "ok"
    after = log.steps[names.index("phase", names.index("unbind")) + 1 : names.index("close")]
    assert all(o.startswith("errno 19 (ENODEV") for s, o in after if s != "touch-old-mapping"), after
    assert log.reports == () and log.refusal() is None


def test_the_stdout_half_of_a_log_file_is_not_parsed() -> None:
    text = (DATA / RECORDED).read_text()
    doubled = logparse.parse(text + "\n" + logparse.STDOUT_MARK + "\n" + "drmm-prove: start: again\n")
    assert doubled.steps == _log(RECORDED).steps


def test_no_report_before_names_the_finding_and_the_failed_steps() -> None:
    run = _run("before", RECORDED)
    finding = "unguarded-hw-access at drivers/gpu/drm/tiny/bochs.c:531 in bochs_crtc_helper_atomic_enable()"
    proof = verdict.judge("bochs", "p1", [finding], ["bochs_crtc_helper_atomic_enable", "bochs.c"], run, run)
    assert proof.verdict == "no-report-before"
    assert finding in proof.reason and "getresources errno 19" in proof.reason


# The judging logic on reports made here (not kernel output: the parser's tests use
# recorded logs): which side of the patch a report is on decides the verdict.
def _with(run: verdict.Run, *titles: str) -> verdict.Run:
    reports = tuple(logparse.Report("warning", t, "after-unbind", (t, " bochs_hw_blank+0x1/0x2"))
                    for t in titles)  # fmt: skip
    return verdict.Run(run.label, run.log, run.seconds, run.kvm, True, run.steps, reports, 0)


def test_verdicts_from_reports_before_and_after() -> None:
    run = _run("x", RECORDED)
    marks = ["bochs_hw_blank"]
    a, b = "WARNING: at drm_atomic.c:10 f", "WARNING: at drm_file.c:20 g"
    assert verdict.judge("d", "p", [], marks, _with(run, a), _with(run)).verdict == "reproduced-and-fixed"
    assert verdict.judge("d", "p", [], marks, _with(run, a), _with(run, a)).verdict == "report-after"
    assert verdict.judge("d", "p", [], marks, _with(run), _with(run, b)).verdict == "report-after"
    # a report of other code in both runs is not the patch's: named, not held against it
    other = verdict.judge("d", "p", [], ["elsewhere"], _with(run, a), _with(run, a))
    assert other.verdict == "no-report-before" and "in both runs" in other.reason


def test_frames_of_a_task_an_interrupt_stopped_do_not_relate() -> None:
    """A use-after-free in an IRQ handler that fires while the probe of the rebind runs
    (qxl on 7.2) is not about the probe's code: the frames after </IRQ> are the stopped
    task's; the object's free stack is the report's own again."""
    excerpt = ("BUG: KASAN: slab-use-after-free in foo_irq_handler+0x24/0x1f0", "Call Trace:", " <IRQ>",
               " foo_irq_handler+0x24/0x1f0", " handle_irq_event+0x59/0xc0", " </IRQ>", " <TASK>",
               " foo_device_init+0xa2d/0xde0", " foo_pci_probe+0xb9/0x200", "Freed by task 1:",
               " kfree+0x10/0x20", " foo_release+0x1/0x2")  # fmt: skip
    report = logparse.Report("kasan", excerpt[0], "rebind", excerpt)
    assert not verdict.relates(report, ["foo_device_init"])
    assert verdict.relates(report, ["foo_irq_handler"]) and verdict.relates(report, ["foo_release"])


# Our own runs of prove on Linux 7.2.13 (TCG): qxl unpatched, then with its drmm_mutex_init()
# patch and with its devm_request_irq() patch.


def test_the_same_bug_raised_deeper_is_not_the_patch_s() -> None:
    """Unpatched, the old qxl interrupt handler reads the freed device at the rebind: KASAN
    in qxl_irq_handler.  With the mutex patch the same handler ran further before KASAN
    caught it (do_raw_spin_lock under its wake_up(), __wake_up_common, other offsets in
    qxl_irq_handler): the same bug, not the patch's; the run is judged on the finding."""
    before, after = _run("before", "qxl-7.2-before.log.xz"), _run("after", "qxl-7.2-after-mutex.log.xz")
    sites = {r.title.split(" in ")[1].split("+")[0] for r in after.reports}
    assert {"qxl_irq_handler", "do_raw_spin_lock"} <= sites
    assert all(r.phase == "rebind" for r in after.reports)
    assert {r.signature for r in after.reports} - {r.signature for r in before.reports}  # new titles
    assert all(verdict.same_bug(r, before.reports) for r in after.reports)
    proof = verdict.judge("qxl", "p", ["unmanaged-mutex"], ["qxl_device_init", "qxl_kms.c"], before, after)
    assert proof.verdict == "no-report-before", proof.reason
    # a report elsewhere is not taken for one of them: the TTM warning of the last close
    ttm = _run("after", "qxl-7.2-after-devm-irq.log.xz").reports[0]
    assert not verdict.same_bug(ttm, before.reports) and not verdict.same_bug(after.reports[0], [ttm])


def test_a_page_fault_in_the_same_handler_and_its_panic_are_that_bug() -> None:
    """In another run (the drmm-alloc patch: mode objects only) the old handler read the
    mapping qxl_device_fini() had unmapped: KASAN vmalloc-out-of-bounds, a page fault with
    its RIP in qxl_irq_handler, and the panic of that fatal exception in an interrupt."""
    before = _run("before", "qxl-7.2-before.log.xz")
    after = _run("after", "qxl-7.2-after-drmm-alloc.log.xz")
    kinds = [r.kind for r in after.reports]
    assert "oops" in kinds and any(
        r.title.startswith("BUG: unable to handle page fault") for r in after.reports
    )
    assert verdict.new_reports(before.reports, after.reports) == []
    proof = verdict.judge(
        "qxl", "p", ["unmanaged-mode-object"], ["qdev_crtc_init", "qxl_display.c"], before, after
    )
    assert proof.verdict == "no-report-before", proof.reason
    # a fatal exception after a new oops is new with it
    oops = logparse.Report("bug", "BUG: unable to handle page fault for address: 1", "rebind",
                           ("RIP: 0010:other_fn+0x1/0x2",))  # fmt: skip
    panic = logparse.Report("oops", "Kernel panic - not syncing: Fatal exception in interrupt", "rebind", ())
    assert verdict.new_reports(before.reports, [oops, panic]) == [oops, panic]


def test_a_finding_without_a_patch_shown_real_by_the_kernel() -> None:
    """qxl's IRQ finding has no patch (its release path waits on the interrupt): prove
    reports what the unpatched kernel shows of it, the KASAN report in its handler."""
    before = _run("before", "qxl-7.2-before.log.xz")
    finding = "irq-outlives-unbind at drivers/gpu/drm/qxl/qxl_irq.c:100 in qxl_irq_init()"
    proof = verdict.unpatched("qxl", [finding], before, ["qxl_irq_init", "qxl_irq_handler"])
    assert proof.verdict == "report-before" and proof.findings == (finding,)
    mine = "no patch to prove; the kernel reports, in the finding's code: BUG: KASAN: slab-use-after-free in "
    assert proof.reason.startswith(mine + "qxl_irq_handler")
    other = verdict.unpatched("qxl", [finding], before, ["qxl_irq_init"])
    assert other.reason.startswith("no patch to prove; the kernel reports: BUG: KASAN")


def test_a_patch_that_adds_a_warning_at_the_final_close_is_report_after() -> None:
    """devm_request_irq() frees qxl's interrupt at unbind, but qxl's drm release path
    (qxl_device_fini) still waits for releases the interrupt signals: the rebind's
    use-after-free is gone and TTM warns at the last close instead."""
    before, after = _run("before", "qxl-7.2-before.log.xz"), _run("after", "qxl-7.2-after-devm-irq.log.xz")
    assert not any("qxl_irq_handler" in r.title for r in after.reports)
    proof = verdict.judge("qxl", "p", ["irq-outlives-unbind"], ["qxl_irq_init", "qxl_irq.c"], before, after)
    assert proof.verdict == "report-after" and "ttm_range_man_fini_nocheck" in proof.reason


def test_a_refusing_scenario_is_not_runnable() -> None:
    run = _run("before", RECORDED)
    refused = verdict.Run("before", "x", 1.0, True, True, (("not-runnable", "no card"),), (), 0)
    assert verdict.judge("d", "p", [], [], refused, run).verdict == "not-runnable"
    assert verdict.unpatched("d", [], run).verdict == "no-report"


def test_a_guest_that_stops_at_boot_says_where() -> None:
    """A panic before the scenario started (a root that does not mount) is named in the
    reason, not passed off as a run in which the kernel reported nothing."""
    text = ("[    0.50] VFS: Failed to pivot into new rootfs\n"
            "[    0.51] Kernel panic - not syncing: Requested init /sbin/init failed (error -2).\n"
            "[    0.52] Call Trace:\n")  # fmt: skip
    stopped = verdict.run_of("before", "b.log", 1.0, False, logparse.parse(text))
    proof = verdict.judge("d", "p", [], [], stopped, _run("after", RECORDED))
    assert proof.verdict == "not-runnable"
    assert "stopped at boot (before)" in proof.reason and "Requested init /sbin/init failed" in proof.reason


def test_unknown_driver_is_not_runnable_with_the_reason(corpus_tree: Path) -> None:
    res = CliRunner().invoke(main, ["prove", str(corpus_tree), "--driver", "nosuch", "--format", "json"])
    assert res.exit_code == 0, res.output
    (proof,) = json.loads(res.output)["proofs"]
    assert proof["verdict"] == "not-runnable"
    assert "no QEMU device model for nosuch" in proof["reason"]


def test_simpledrm_is_refused_with_its_reason() -> None:
    assert "firmware framebuffer" in runner.model_of("simpledrm").reason
    assert not runner.model_of("bochs").reason


@pytest.mark.realtree
def test_scenario_structures_match_the_uapi_headers(linux_7_2: Path, tmp_path: Path) -> None:
    """The ctypes layouts the guest scenario hands to the ioctls have the sizes the tree's
    uapi headers give (a wrong size is EINVAL, or worse, a wrong field)."""
    g = guest_scenario
    names = {"drm_mode_modeinfo": g.ModeInfo, "drm_mode_card_res": g.CardRes,
             "drm_mode_get_connector": g.GetConnector, "drm_mode_create_dumb": g.CreateDumb,
             "drm_mode_map_dumb": g.MapDumb, "drm_mode_fb_cmd": g.FbCmd, "drm_mode_crtc": g.Crtc,
             "drm_mode_crtc_page_flip": g.PageFlip, "drm_mode_fb_dirty_cmd": g.DirtyFb,
             "drm_gem_close": g.Handle}  # fmt: skip
    src = tmp_path / "sizes.c"
    src.write_text(
        "#include <stdio.h>\n#include <drm/drm.h>\n#include <drm/drm_mode.h>\n"
        "int main(void) {\n"
        + "".join(f'printf("{n} %zu\\n", sizeof(struct {n}));\n' for n in names)
        + "return 0;\n}\n"
    )
    exe = tmp_path / "sizes"
    # the tree's uapi headers as they are, not installed: __user is still in them
    inc = ["-I", str(linux_7_2 / "include/uapi"), "-I", str(linux_7_2 / "arch/x86/include/uapi")]
    subprocess.run(["gcc", "-D__user=", *inc, "-o", str(exe), str(src)], check=True)
    out = subprocess.run([str(exe)], capture_output=True, text=True, check=True).stdout
    sizes = dict(line.split() for line in out.splitlines())
    assert {n: int(sizes[n]) for n in names} == {n: ctypes.sizeof(c) for n, c in names.items()}


def _no_guest() -> str | None:
    """Why the guest cannot run here: no vng or QEMU, or no KVM (TCG takes ten minutes or
    more a boot with KASAN; DRMM_PROVE_TCG=1 runs it anyway)."""
    if runner.kvm_usable() or os.environ.get("DRMM_PROVE_TCG"):
        return runner.missing_runner()
    return runner.missing_runner() or "no usable KVM (/dev/kvm with vmx or svm); DRMM_PROVE_TCG=1 to use TCG"


@pytest.mark.realtree
@pytest.mark.slow
def test_prove_bochs_on_linux_7_2(linux_7_2_git: Path) -> None:
    """bochs has a drm-guards patch on 7.2: the scenario runs before and after it (the first
    run builds the guest kernel, 20 to 60 minutes on two shared cores; later ones reuse it),
    the unbind happens under the open fd, and the patch adds no report."""
    why = _no_guest()
    if why:
        pytest.skip(why)
    result = stage.prove(linux_7_2_git, ["bochs"])
    patched = [p for p in result.proofs if p.patch]
    assert patched, [p.reason for p in result.proofs]
    for p in patched:
        assert p.verdict in ("reproduced-and-fixed", "no-report-before"), p.reason
        before, after = p.runs
        for run in (before, after):
            assert run.finished, run.log
            steps = dict(run.steps)
            assert steps["unbind"] == "done"
            # bochs's remove calls drm_dev_unplug(): the old fd's ioctls are refused
            assert steps["getresources"].startswith("errno 19"), run.steps
    assert result.builds[0].ok and all(b.ok for b in result.builds)


def _git(cwd: Path, *args: str) -> subprocess.CompletedProcess[str]:
    return subprocess.run(["git", *args], cwd=cwd, capture_output=True, text=True, check=False)


def test_a_worktree_left_by_an_interrupted_add_is_made_again(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    """A prove stopped inside `git worktree add` leaves a locked entry and a partial
    directory; the next run clears both and adds the worktree, instead of failing with
    git's 'missing but locked worktree'."""
    from refactor.prove import kernel

    tree = tmp_path / "tree"
    tree.mkdir()
    (tree / "Makefile").write_text("all:\n")
    for var in ("GIT_AUTHOR_NAME", "GIT_AUTHOR_EMAIL", "GIT_COMMITTER_NAME", "GIT_COMMITTER_EMAIL"):
        monkeypatch.setenv(var, "t@t")
    assert _git(tree, "init", "-q").returncode == 0
    assert _git(tree, "add", "Makefile").returncode == 0
    assert _git(tree, "commit", "-q", "-m", "base").returncode == 0
    commit = _git(tree, "rev-parse", "HEAD").stdout.strip()
    source = tmp_path / "ws" / "src"
    assert _git(tree, "worktree", "add", "--lock", "--detach", str(source), commit).returncode == 0
    (source / ".git").unlink()  # the partial checkout of a killed add
    again = _git(tree, "worktree", "add", "--detach", str(source), commit)
    assert again.returncode != 0  # what git alone says: the state the fix must clear
    kernel.add_worktree(tree, source, commit)
    assert (source / "Makefile").read_text() == "all:\n"
    listed = _git(tree, "worktree", "list", "--porcelain").stdout
    assert str(source) in listed and "locked" not in listed
