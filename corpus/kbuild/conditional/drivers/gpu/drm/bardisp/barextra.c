/* barextra: synthetic source for the Kbuild reader tests */
int barextra_probe(void) { return 0; }
