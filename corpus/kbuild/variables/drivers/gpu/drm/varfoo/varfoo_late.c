/* varfoo_late: synthetic source for the Kbuild reader tests */
int varfoo_late_probe(void) { return 0; }
