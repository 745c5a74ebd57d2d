/* extramod: synthetic source for the Kbuild reader tests */
int extramod_probe(void) { return 0; }
