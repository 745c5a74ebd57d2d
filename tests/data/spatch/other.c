// SPDX-License-Identifier: GPL-2.0-only
/* Runner test input: nothing to report. */
static int plain(int a)
{
	return a + 1;
}
