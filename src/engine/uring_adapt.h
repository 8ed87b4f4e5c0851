// SPDX-License-Identifier: MIT
/*
 * The uring engine's IOSQE_ASYNC measurement on a device without NOWAIT
 * (src/engine/uring.c says why), apart so a test can drive it with made-up
 * clocks and completion counts.
 */
#ifndef RAWIO_ENGINE_URING_ADAPT_H
#define RAWIO_ENGINE_URING_ADAPT_H

#include <stdbool.h>
#include <stdint.h>

#define URING_ADAPT_FIRST_NS 200000000ull  /* first probe: soon, so a short job decides early */
#define URING_ADAPT_RUN_NS   1000000000ull /* then the kept mode runs this long ... */
#define URING_ADAPT_PROBE_NS 100000000ull  /* ... and the other is tried this long */
/*
 * A probe must beat the kept mode by more than this many percent to become the
 * kept mode: a 100 ms probe against a 1 s window measures the machine's share
 * as much as the mode. Probes logged on zram at QD 32 and 128 at load 13
 * (docs/perf.md, "A switching margin") switched 15 times, 7 of them on a win
 * of 0.4-14%, 6 of those undone within two probes; the quiet pass's flapping
 * probes were within 2-15% of the kept rate; the differences the measurement
 * is for were 1.25-3.6x at load and 1.5x quiet. Between the two: 20.
 */
#define URING_ADAPT_MARGIN_PCT 20u

struct uring_adapt {
	bool on;	   /* the device has no NOWAIT and the depth is > 1 */
	bool probing;	   /* the current window tries the other mode */
	uint64_t start_ns; /* this window began, lasts len_ns, and began with ... */
	uint64_t len_ns;
	uint64_t reaped0;    /* ... this many completions so far */
	uint64_t run_rate;   /* completions per second of the last window in the kept mode */
	uint64_t probe_rate; /* ... and of the last probe of the other mode */
	unsigned probes;     /* probes decided */
	unsigned switches;   /* probes that won */
};

/* Start measuring at NOW with REAPED completions so far (the first probe comes soon). */
void uring_adapt_start(struct uring_adapt *a, uint64_t now, uint64_t reaped);

/*
 * One step at NOW with REAPED completions so far, IOSQE_ASYNC being ASYNC:
 * returns whether IOSQE_ASYNC should be on from now. A window in the kept mode
 * lasts URING_ADAPT_RUN_NS, a probe of the other mode URING_ADAPT_PROBE_NS; a
 * probe that completed more than URING_ADAPT_MARGIN_PCT percent more per second
 * than the kept mode's window before it becomes the kept mode. A window that
 * ran far over its length (the context sat idle) decides nothing and starts
 * again.
 */
bool uring_adapt_step(struct uring_adapt *a, bool async, uint64_t now, uint64_t reaped);

#endif
