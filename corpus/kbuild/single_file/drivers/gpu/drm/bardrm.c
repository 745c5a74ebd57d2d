/* bardrm: synthetic source for the Kbuild reader tests */
int bardrm_probe(void) { return 0; }
