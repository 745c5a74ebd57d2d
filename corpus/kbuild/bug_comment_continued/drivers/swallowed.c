/* swallowed: synthetic source for the Kbuild reader tests */
int swallowed_probe(void) { return 0; }
