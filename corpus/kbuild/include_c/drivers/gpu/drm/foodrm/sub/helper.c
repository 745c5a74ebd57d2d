/* helper: synthetic source for the Kbuild reader tests */
int helper_probe(void) { return 0; }
