/* contfoo_h: synthetic source for the Kbuild reader tests */
int contfoo_h_probe(void) { return 0; }
