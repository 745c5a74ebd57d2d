/* contfoo_cut: synthetic source for the Kbuild reader tests */
int contfoo_cut_probe(void) { return 0; }
