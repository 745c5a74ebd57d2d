/* ord_shared: synthetic source for the Kbuild reader tests */
int ord_shared_probe(void) { return 0; }
