"""The C index: tree-sitter parsing of C files, struct definitions and types, one function's view."""
