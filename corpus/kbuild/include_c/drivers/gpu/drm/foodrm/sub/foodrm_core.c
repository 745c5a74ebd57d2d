/* foodrm_core: synthetic source for the Kbuild reader tests */
#include "selftest_core.c"
#include "helper.c"
#include "nowhere.c"
int foodrm_core_probe(void) { return 0; }
