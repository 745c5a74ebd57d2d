/* selftest_drv: synthetic source for the Kbuild reader tests */
#  include "tables.c"
int selftest_drv_probe(void) { return 0; }
