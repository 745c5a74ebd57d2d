/* tinyorphan: synthetic source for the Kbuild reader tests */
int tinyorphan_probe(void) { return 0; }
