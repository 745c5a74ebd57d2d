/* foodrm_d: synthetic source for the Kbuild reader tests */
int foodrm_d_probe(void) { return 0; }
