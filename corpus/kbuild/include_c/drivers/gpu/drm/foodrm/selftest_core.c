/* selftest_core: synthetic source for the Kbuild reader tests */
int selftest_core_probe(void) { return 0; }
