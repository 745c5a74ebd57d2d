/* innermod: synthetic source for the Kbuild reader tests */
int innermod_probe(void) { return 0; }
