/* snap_a: synthetic source for the Kbuild reader tests */
int snap_a_probe(void) { return 0; }
