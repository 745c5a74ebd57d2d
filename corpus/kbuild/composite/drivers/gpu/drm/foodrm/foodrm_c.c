/* foodrm_c: synthetic source for the Kbuild reader tests */
int foodrm_c_probe(void) { return 0; }
