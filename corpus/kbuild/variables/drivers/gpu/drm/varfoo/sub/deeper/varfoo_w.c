/* varfoo_w: synthetic source for the Kbuild reader tests */
int varfoo_w_probe(void) { return 0; }
