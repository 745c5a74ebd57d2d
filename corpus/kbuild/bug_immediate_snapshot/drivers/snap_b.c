/* snap_b: synthetic source for the Kbuild reader tests */
int snap_b_probe(void) { return 0; }
