/* varfoo_s: synthetic source for the Kbuild reader tests */
int varfoo_s_probe(void) { return 0; }
