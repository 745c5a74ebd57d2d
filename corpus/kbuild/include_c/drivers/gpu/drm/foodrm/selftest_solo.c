/* selftest_solo: synthetic source for the Kbuild reader tests */
int selftest_solo_probe(void) { return 0; }
