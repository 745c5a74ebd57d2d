// SPDX-License-Identifier: GPL-2.0-only
/*
 * ladderdisp_irq: two void helpers the probe calls.  The irq helper only sets
 * its lock up: it is made to return int, and the probe checks it with the
 * label of the check that follows the call.  The hpd helper is also called
 * from the reset helper, which returns void and cannot pass the error on: no
 * patch.
 */
#include "ladderdisp.h"

void ladderdisp_irq_init(struct ladderdisp *ld)
{
	// expect: unmanaged-mutex
	mutex_init(&ld->irq_lock);
}

void ladderdisp_hpd_init(struct ladderdisp *ld)
{
	// expect: unmanaged-mutex
	mutex_init(&ld->hpd.lock);
}
