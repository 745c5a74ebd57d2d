"""`python -m refactor` is the same as the `drmm-refactor` command."""

import signal
import sys


def _early(signum: int, frame: object) -> None:
    sys.exit(128 + signum)  # nothing has started yet: nothing to clean up


def run() -> None:
    """The console entry point: a signal while the modules load or click parses the options
    ends the run quietly with 128 + signal (nothing has started); a command's body
    (cli._run) turns signals into a clean unwinding.  SIGINT does not go back to Python's
    default handler in between: click would turn that KeyboardInterrupt into "Aborted!"
    and exit status 1."""
    signal.signal(signal.SIGINT, _early)
    signal.signal(signal.SIGTERM, _early)
    from refactor.cli import main

    main()


if __name__ == "__main__":
    run()
