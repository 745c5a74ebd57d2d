/* solo: synthetic source for the Kbuild reader tests */
	#include "selftest_solo.c"
int solo_probe(void) { return 0; }
