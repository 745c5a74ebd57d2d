/* contfoo_f: synthetic source for the Kbuild reader tests */
int contfoo_f_probe(void) { return 0; }
