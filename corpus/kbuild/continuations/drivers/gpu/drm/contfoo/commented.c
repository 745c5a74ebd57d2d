/* commented: synthetic source for the Kbuild reader tests */
int commented_probe(void) { return 0; }
