"""Coccinelle: the spatch runner and the rule catalogue read from the `.cocci` headers."""
