/* varfoo_r: synthetic source for the Kbuild reader tests */
int varfoo_r_probe(void) { return 0; }
