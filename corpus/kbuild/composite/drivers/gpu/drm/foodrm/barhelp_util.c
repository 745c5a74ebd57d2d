/* barhelp_util: synthetic source for the Kbuild reader tests */
int barhelp_util_probe(void) { return 0; }
