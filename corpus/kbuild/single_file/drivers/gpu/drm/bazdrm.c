/* bazdrm: synthetic source for the Kbuild reader tests */
int bazdrm_probe(void) { return 0; }
