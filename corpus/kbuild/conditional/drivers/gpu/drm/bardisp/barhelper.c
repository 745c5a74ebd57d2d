/* barhelper: synthetic source for the Kbuild reader tests */
int barhelper_probe(void) { return 0; }
