/* tab_b: synthetic source for the Kbuild reader tests */
int tab_b_probe(void) { return 0; }
