"""`python -m refactor` is the same as the `drmm-refactor` command."""

import signal
import sys


def _early(signum: int, frame: object) -> None:
    sys.exit(128 + signum)  # nothing has started yet: nothing to clean up


def run() -> None:
    """The console entry point: a signal while the modules load ends the run quietly with
    128 + signal; from then on the CLI turns signals into a clean unwinding."""
    signal.signal(signal.SIGINT, _early)
    signal.signal(signal.SIGTERM, _early)
    from refactor.cli import main

    signal.signal(signal.SIGINT, signal.default_int_handler)
    main()


if __name__ == "__main__":
    run()
