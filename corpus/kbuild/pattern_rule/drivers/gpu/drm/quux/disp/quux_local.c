/* quux_local: synthetic source for the Kbuild reader tests */
int quux_local_probe(void) { return 0; }
