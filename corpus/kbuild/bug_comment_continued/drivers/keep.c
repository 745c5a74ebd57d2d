/* keep: synthetic source for the Kbuild reader tests */
int keep_probe(void) { return 0; }
