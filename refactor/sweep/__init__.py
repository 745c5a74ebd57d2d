"""The sweep stage: the catalogue's rules over the drivers' files, candidates to findings."""
