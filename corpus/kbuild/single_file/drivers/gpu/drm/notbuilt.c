/* notbuilt: synthetic source for the Kbuild reader tests */
int notbuilt_probe(void) { return 0; }
