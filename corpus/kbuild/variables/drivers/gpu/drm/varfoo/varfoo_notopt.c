/* varfoo_notopt: synthetic source for the Kbuild reader tests */
int varfoo_notopt_probe(void) { return 0; }
