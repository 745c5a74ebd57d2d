/* tightdrm: synthetic source for the Kbuild reader tests */
int tightdrm_probe(void) { return 0; }
