/* varfoo_q: synthetic source for the Kbuild reader tests */
int varfoo_q_probe(void) { return 0; }
