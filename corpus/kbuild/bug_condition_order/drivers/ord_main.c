/* ord_main: synthetic source for the Kbuild reader tests */
int ord_main_probe(void) { return 0; }
