/* bardisp_x86: synthetic source for the Kbuild reader tests */
int bardisp_x86_probe(void) { return 0; }
