/* contfoo_disabled: synthetic source for the Kbuild reader tests */
int contfoo_disabled_probe(void) { return 0; }
