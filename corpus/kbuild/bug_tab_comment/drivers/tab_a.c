/* tab_a: synthetic source for the Kbuild reader tests */
int tab_a_probe(void) { return 0; }
