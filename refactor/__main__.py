"""`python -m refactor` is the same as the `drmm-refactor` command."""

from refactor.cli import main

main()
