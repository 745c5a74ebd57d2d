/* contfoo_i: synthetic source for the Kbuild reader tests */
int contfoo_i_probe(void) { return 0; }
