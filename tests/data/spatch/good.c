// SPDX-License-Identifier: GPL-2.0-only
/* Runner test input: two allocations, both reported. */
struct thing { int *a; int *b; };

static int thing_probe(struct device *dev, struct thing *t)
{
	t->a = devm_kzalloc(dev, sizeof(int), GFP_KERNEL);
	if (!t->a)
		return -ENOMEM;
	t->b = devm_kzalloc(dev, sizeof(int), GFP_KERNEL);
	return t->b ? 0 : -ENOMEM;
}
