/* varfoo_v: synthetic source for the Kbuild reader tests */
int varfoo_v_probe(void) { return 0; }
