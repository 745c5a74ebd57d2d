/* lazy_b: synthetic source for the Kbuild reader tests */
int lazy_b_probe(void) { return 0; }
