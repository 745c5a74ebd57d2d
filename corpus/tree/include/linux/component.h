/* SPDX-License-Identifier: GPL-2.0-only */
/* Corpus stand-in: an aggregate driver binding several devices into one drm device. */
#ifndef _CORPUS_COMPONENT_H
#define _CORPUS_COMPONENT_H

struct device;
struct component_match;

struct component_ops {
	int (*bind)(struct device *comp, struct device *master, void *master_data);
	void (*unbind)(struct device *comp, struct device *master, void *master_data);
};

struct component_master_ops {
	int (*bind)(struct device *master);
	void (*unbind)(struct device *master);
};

int component_add(struct device *dev, const struct component_ops *ops);
void component_del(struct device *dev, const struct component_ops *ops);
void component_match_add(struct device *parent, struct component_match **matchptr,
			 int (*compare)(struct device *, void *), void *compare_data);
int component_master_add_with_match(struct device *parent,
				    const struct component_master_ops *ops,
				    struct component_match *match);
void component_master_del(struct device *parent, const struct component_master_ops *ops);
int component_bind_all(struct device *parent, void *data);
void component_unbind_all(struct device *parent, void *data);

#endif
