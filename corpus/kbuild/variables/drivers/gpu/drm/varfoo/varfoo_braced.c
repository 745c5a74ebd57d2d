/* varfoo_braced: synthetic source for the Kbuild reader tests */
int varfoo_braced_probe(void) { return 0; }
