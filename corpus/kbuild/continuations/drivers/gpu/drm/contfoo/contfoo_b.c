/* contfoo_b: synthetic source for the Kbuild reader tests */
int contfoo_b_probe(void) { return 0; }
