/* contfoo_g: synthetic source for the Kbuild reader tests */
int contfoo_g_probe(void) { return 0; }
