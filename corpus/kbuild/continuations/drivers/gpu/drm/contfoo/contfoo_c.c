/* contfoo_c: synthetic source for the Kbuild reader tests */
int contfoo_c_probe(void) { return 0; }
