/* bazasm_fastglue: synthetic source for the Kbuild reader tests */
int bazasm_fastglue_probe(void) { return 0; }
