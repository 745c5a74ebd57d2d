/* contfoo_a: synthetic source for the Kbuild reader tests */
int contfoo_a_probe(void) { return 0; }
