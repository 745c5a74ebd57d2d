/* varmod_main: synthetic source for the Kbuild reader tests */
int varmod_main_probe(void) { return 0; }
