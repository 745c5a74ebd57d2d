/* varfoo_t: synthetic source for the Kbuild reader tests */
int varfoo_t_probe(void) { return 0; }
