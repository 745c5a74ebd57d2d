/* quxdrm: synthetic source for the Kbuild reader tests */
int quxdrm_probe(void) { return 0; }
