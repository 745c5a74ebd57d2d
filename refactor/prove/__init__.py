"""Proof at run time: reproduce a use-after-unbind under QEMU and show a patch removes it.

kernel (config, worktree, cached build) -> runner (vng boot with the device model) ->
guest_scenario (in the guest) -> logparse (the console's reports) -> verdict; stage runs
them in order for `drmm-refactor prove`.
"""
