/* commented_out: synthetic source for the Kbuild reader tests */
int commented_out_probe(void) { return 0; }
