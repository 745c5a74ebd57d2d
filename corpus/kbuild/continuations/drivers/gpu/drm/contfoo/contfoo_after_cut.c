/* contfoo_after_cut: synthetic source for the Kbuild reader tests */
int contfoo_after_cut_probe(void) { return 0; }
