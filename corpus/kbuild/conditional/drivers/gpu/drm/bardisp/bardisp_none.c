/* bardisp_none: synthetic source for the Kbuild reader tests */
int bardisp_none_probe(void) { return 0; }
