/* varfoo_z: synthetic source for the Kbuild reader tests */
int varfoo_z_probe(void) { return 0; }
