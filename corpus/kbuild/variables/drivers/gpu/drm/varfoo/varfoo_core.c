/* varfoo_core: synthetic source for the Kbuild reader tests */
int varfoo_core_probe(void) { return 0; }
