/* ignored: synthetic source for the Kbuild reader tests */
int ignored_probe(void) { return 0; }
