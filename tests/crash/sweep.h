/* SPDX-License-Identifier: MIT */
/*
 * The seed sweep every crash test runs:
 *
 *   TEST [--seed N | --seeds A:B] [--ops N] [-v] [--keep]
 *
 * runs the test's seeds in order (default 1:200), prints a line for each seed
 * that violates (every seed with -v) and the command that replays it, then a
 * summary of what the fault models did at the cuts; exit 0 when no seed
 * violated, 1 otherwise or when the harness itself failed.
 */
#ifndef RAWIO_TESTS_CRASH_SWEEP_H
#define RAWIO_TESTS_CRASH_SWEEP_H

#include <getopt.h>
#include <stdbool.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <unistd.h>

#include <rawio/engine.h>

#include "harness.h"

/* What the volatile-cache models did with the writes they held at the cuts. */
struct sweep_counts {
	uint64_t cuts, kept, lost, torn;
};

struct sweep {
	const char *name; /* the summary says "NAME: N seeds, ..." */
	const char *cuts; /* what it calls the cuts: "cuts", "device cuts" */
	unsigned ops;	  /* operations per seed (the default; --ops sets it) */
	bool verbose;	  /* -v */
	/* Optional: a scratch image every seed reuses. Removed at the end; --keep
	 * stops at the first violation and leaves it there. */
	const char *image;
	void *arg; /* the test's own state */
	/* One seed (with S's ops and verbose): 0 ok, 1 a violation, -errno the
	 * harness failed. Fills C. */
	int (*run)(struct sweep *s, uint64_t seed, struct sweep_counts *c);
	/* The rest of the seed's line after "seed N", newline included. */
	void (*describe)(struct sweep *s, int ret, FILE *f);
};

/* What one fault model did at its cut, as a seed's counts. */
static inline void sweep_counts_of(const struct rawio_fault_model_stat *m, struct sweep_counts *c)
{
	c->cuts = m->cut;
	c->kept = m->kept;
	c->lost = m->lost;
	c->torn = m->torn_prefix + m->torn_subset;
}

/* " (held writes at the cut: K kept, L lost, T torn)": what M did, for a describe line. */
static inline void sweep_fprint_held(FILE *f, const struct rawio_fault_model_stat *m)
{
	fprintf(f, " (held writes at the cut: %llu kept, %llu lost, %llu torn)",
		(unsigned long long)m->kept, (unsigned long long)m->lost,
		(unsigned long long)(m->torn_prefix + m->torn_subset));
}

/* PATH = a scratch image for TEST: on tmpfs when there is one (fast, and
 * O_DIRECT works there), else in the working directory. */
static inline void sweep_image_path(char *path, size_t len, const char *test)
{
	snprintf(path, len, "%s/rawio-%s-%d.img", access("/dev/shm", W_OK) ? "." : "/dev/shm", test,
		 (int)getpid());
}

static inline int sweep_main(struct sweep *s, int argc, char **argv)
{
	static const struct option lo[] = {
		{ "seed", required_argument, NULL, 's' }, { "seeds", required_argument, NULL, 'S' },
		{ "ops", required_argument, NULL, 'o' },  { "verbose", no_argument, NULL, 'v' },
		{ "keep", no_argument, NULL, 'k' },	  { NULL, 0, NULL, 0 },
	};
	uint64_t from = 1, to = 200;
	struct sweep_counts sum = { 0 };
	unsigned failures = 0;
	bool keep = false;
	int c;

	while ((c = getopt_long(argc, argv, "v", lo, NULL)) != -1) {
		switch (c) {
		case 's':
			from = to = strtoull(optarg, NULL, 0);
			break;
		case 'S':
			if (sscanf(optarg, "%lu:%lu", &from, &to) != 2 || to < from) {
				fprintf(stderr, "--seeds A:B\n");
				return T_FAIL;
			}
			break;
		case 'o':
			s->ops = (unsigned)strtoul(optarg, NULL, 0);
			break;
		case 'v':
			s->verbose = true;
			break;
		case 'k':
			if (!s->image)
				return T_FAIL;
			keep = true;
			break;
		default:
			return T_FAIL;
		}
	}
	for (uint64_t seed = from; seed <= to; seed++) {
		struct sweep_counts sc = { 0 };
		int ret = s->run(s, seed, &sc);

		if (ret < 0) {
			fprintf(stderr, "seed %llu: harness failure: %s\n",
				(unsigned long long)seed, rawio_strerror(ret));
			if (s->image)
				unlink(s->image);
			return T_FAIL;
		}
		sum.cuts += sc.cuts;
		sum.kept += sc.kept;
		sum.lost += sc.lost;
		sum.torn += sc.torn;
		if (ret || s->verbose) {
			fprintf(ret ? stderr : stdout, "seed %llu", (unsigned long long)seed);
			s->describe(s, ret, ret ? stderr : stdout);
		}
		if (ret) {
			fprintf(stderr, "replay: %s --seed %llu --ops %u -v\n", argv[0],
				(unsigned long long)seed, s->ops);
			failures++;
			if (keep) {
				fprintf(stderr, "kept the image: %s\n", s->image);
				return T_FAIL;
			}
		}
	}
	if (s->image)
		unlink(s->image);
	printf("%s: %llu seeds, %llu %s, held writes %llu kept / %llu lost / %llu torn, "
	       "%u violations\n",
	       s->name, (unsigned long long)(to - from + 1), (unsigned long long)sum.cuts, s->cuts,
	       (unsigned long long)sum.kept, (unsigned long long)sum.lost,
	       (unsigned long long)sum.torn, failures);
	return failures ? T_FAIL : T_PASS;
}

#endif
