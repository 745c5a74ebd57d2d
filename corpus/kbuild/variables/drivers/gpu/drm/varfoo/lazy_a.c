/* lazy_a: synthetic source for the Kbuild reader tests */
int lazy_a_probe(void) { return 0; }
