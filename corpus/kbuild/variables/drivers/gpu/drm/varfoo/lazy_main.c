/* lazy_main: synthetic source for the Kbuild reader tests */
int lazy_main_probe(void) { return 0; }
