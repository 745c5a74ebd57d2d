/* varfoo_p: synthetic source for the Kbuild reader tests */
int varfoo_p_probe(void) { return 0; }
