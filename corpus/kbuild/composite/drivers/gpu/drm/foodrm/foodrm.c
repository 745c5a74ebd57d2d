/* foodrm: synthetic source for the Kbuild reader tests */
int foodrm_probe(void) { return 0; }
