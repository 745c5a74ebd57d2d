/* foodrm_drv: synthetic source for the Kbuild reader tests */
#include "foodrm.h"
#include <linux/module.h>
// #include "commented_out.c"

#if IS_ENABLED(CONFIG_FOODRM_SELFTEST)
#include "selftest_drv.c"
#endif
int foodrm_drv_probe(void) { return 0; }
