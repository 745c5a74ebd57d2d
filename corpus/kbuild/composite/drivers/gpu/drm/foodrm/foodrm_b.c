/* foodrm_b: synthetic source for the Kbuild reader tests */
int foodrm_b_probe(void) { return 0; }
