/* contfoo_e: synthetic source for the Kbuild reader tests */
int contfoo_e_probe(void) { return 0; }
