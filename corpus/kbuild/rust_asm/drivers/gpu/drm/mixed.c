/* mixed: synthetic source for the Kbuild reader tests */
int mixed_probe(void) { return 0; }
