/* snap_late: synthetic source for the Kbuild reader tests */
int snap_late_probe(void) { return 0; }
