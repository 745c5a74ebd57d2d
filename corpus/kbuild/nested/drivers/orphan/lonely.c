/* lonely: synthetic source for the Kbuild reader tests */
int lonely_probe(void) { return 0; }
