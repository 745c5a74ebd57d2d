/* foodrm_wrong: synthetic source for the Kbuild reader tests */
int foodrm_wrong_probe(void) { return 0; }
