/* foodrm_a: synthetic source for the Kbuild reader tests */
int foodrm_a_probe(void) { return 0; }
