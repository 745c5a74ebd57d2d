"""Infrastructure every stage may use: errors, subprocesses, caches, locks, output, bundled data."""
