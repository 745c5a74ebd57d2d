// SPDX-License-Identifier: GPL-2.0-only
/* Runner test input: the middle function cannot be parsed; the others still match. */
static int first(struct device *dev, void **p)
{
	*p = devm_kzalloc(dev, 8, GFP_KERNEL);
	return 0;
}

static int broken(struct device *dev)
{
	int x = ;
	if ( {
}

static int last(struct device *dev, void **q)
{
	*q = devm_kzalloc(dev, 16, GFP_KERNEL);
	return 0;
}
