/* varfoo_u: synthetic source for the Kbuild reader tests */
int varfoo_u_probe(void) { return 0; }
