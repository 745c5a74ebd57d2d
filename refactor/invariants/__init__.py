"""The semantic lifetime invariants a patch must not break (used by generation and verification)."""
