"""The verify stage: apply, semantic invariants, build with the compiled-lines proof, checkpatch, re-sweep."""
