/* shared_e: synthetic source for the Kbuild reader tests */
int shared_e_probe(void) { return 0; }
