/* bar_unused: synthetic source for the Kbuild reader tests */
int bar_unused_probe(void) { return 0; }
