/* varfoo_opt: synthetic source for the Kbuild reader tests */
int varfoo_opt_probe(void) { return 0; }
