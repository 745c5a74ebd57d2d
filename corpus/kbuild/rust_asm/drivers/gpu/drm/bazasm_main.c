/* bazasm_main: synthetic source for the Kbuild reader tests */
int bazasm_main_probe(void) { return 0; }
