/* barhelp_main: synthetic source for the Kbuild reader tests */
int barhelp_main_probe(void) { return 0; }
