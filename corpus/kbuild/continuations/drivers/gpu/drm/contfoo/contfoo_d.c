/* contfoo_d: synthetic source for the Kbuild reader tests */
int contfoo_d_probe(void) { return 0; }
