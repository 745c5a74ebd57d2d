/* quux_main: synthetic source for the Kbuild reader tests */
int quux_main_probe(void) { return 0; }
