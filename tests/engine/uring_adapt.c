// SPDX-License-Identifier: MIT
/*
 * The uring engine's IOSQE_ASYNC measurement on a device without NOWAIT
 * (src/engine/uring_adapt.h), driven with made-up clocks and completion
 * counts: the first probe comes early, a probe that completes more per second
 * by more than the margin becomes the kept mode, one that completes less or
 * only a little more is dropped, each lost probe doubles the kept mode's
 * window (up to URING_ADAPT_RUN_MAX_NS) and a won one starts it again, an idle
 * spell decides nothing, and a context that does not measure never changes its
 * mode.
 */
#include "harness.h"

#include "../../src/engine/uring_adapt.h"

#define MS 1000000ull

int main(void)
{
	struct uring_adapt a = { .on = false };
	uint64_t t = 10000 * MS, n = 0;
	bool async = true;

	/* Not measuring (a device with NOWAIT, or depth 1): never changes. */
	uring_adapt_start(&a, t, n);
	CHECK(uring_adapt_step(&a, true, t + 5000 * MS, 1000000), "off, but switched off async");
	CHECK(!uring_adapt_step(&a, false, t + 5000 * MS, 1000000), "off, but switched on async");

	a.on = true;
	uring_adapt_start(&a, t, n);
	/* Before URING_ADAPT_FIRST_NS nothing happens. */
	async = uring_adapt_step(&a, async, t + URING_ADAPT_FIRST_NS - 1, 100);
	CHECK(async && !a.probing, "probed before the first window ended");
	/* At its end: 100,000 completions in 200 ms (500K/s); now try without. */
	t += URING_ADAPT_FIRST_NS;
	n += 100000;
	async = uring_adapt_step(&a, async, t, n);
	CHECK(!async && a.probing, "no probe after the first window");
	CHECK(a.run_rate == 500000, "kept mode's rate %llu, want 500000",
	      (unsigned long long)a.run_rate);
	/* The probe without IOSQE_ASYNC does 80,000 in 100 ms (800K/s): it wins. */
	t += URING_ADAPT_PROBE_NS;
	n += 80000;
	async = uring_adapt_step(&a, async, t, n);
	CHECK(!async && !a.probing && a.switches == 1, "a faster probe was not kept");
	CHECK(a.probes == 1 && a.probe_rate == 800000, "probe %u at %llu/s, want 1 at 800000",
	      a.probes, (unsigned long long)a.probe_rate);
	CHECK(a.len_ns == URING_ADAPT_RUN_NS, "window after a won probe %llu ns",
	      (unsigned long long)a.len_ns);
	/* A run window at 700K/s, then a probe with IOSQE_ASYNC at 300K/s: back to without. */
	t += URING_ADAPT_RUN_NS;
	n += 700000;
	async = uring_adapt_step(&a, async, t, n);
	CHECK(async && a.probing, "no probe after a run window");
	t += URING_ADAPT_PROBE_NS;
	n += 30000;
	async = uring_adapt_step(&a, async, t, n);
	CHECK(!async && !a.probing && a.switches == 1, "a slower probe was kept");
	CHECK(a.probes == 2 && a.probe_rate == 300000 && a.run_rate == 700000,
	      "probes %u, probe %llu/s, kept %llu/s", a.probes, (unsigned long long)a.probe_rate,
	      (unsigned long long)a.run_rate);
	CHECK(a.len_ns == 2 * URING_ADAPT_RUN_NS, "window after a lost probe %llu ns, want 2 s",
	      (unsigned long long)a.len_ns);
	/* Before the doubled window ends, nothing happens. */
	CHECK(!uring_adapt_step(&a, async, t + URING_ADAPT_RUN_NS, n + 700000) && !a.probing,
	      "probed within the doubled window");
	/*
	 * The margin: a probe with IOSQE_ASYNC 10% faster than the kept mode
	 * (770K/s against 700K/s) is noise and is not kept; one 30% faster is.
	 */
	for (unsigned i = 0; i < 2; i++) {
		uint64_t probe = i ? 91000 : 77000; /* in 100 ms: 910K/s, 770K/s */
		uint64_t len = a.len_ns;

		t += len;
		n += 700000 * (len / URING_ADAPT_RUN_NS);
		async = uring_adapt_step(&a, async, t, n);
		CHECK(async && a.probing && a.run_rate == 700000, "no probe after a run window");
		t += URING_ADAPT_PROBE_NS;
		n += probe;
		async = uring_adapt_step(&a, async, t, n);
		CHECK(async == (i == 1) && !a.probing && a.switches == 1 + i && a.probes == 3 + i,
		      "a probe at %llu/s against %llu/s: %s", (unsigned long long)a.probe_rate,
		      (unsigned long long)a.run_rate,
		      i ? "30% faster, not kept" : "10% faster, kept: no margin");
		CHECK(a.len_ns == (i ? URING_ADAPT_RUN_NS : 4 * URING_ADAPT_RUN_NS),
		      "window %llu ns after probe %u", (unsigned long long)a.len_ns, a.probes);
	}
	/* Lost probes back off up to URING_ADAPT_RUN_MAX_NS and no further. */
	for (unsigned i = 0; i < 6; i++) {
		t += a.len_ns;
		n += a.len_ns / 1000;
		async = uring_adapt_step(&a, async, t, n);
		t += URING_ADAPT_PROBE_NS;
		n += URING_ADAPT_PROBE_NS / 2000; /* half the kept rate */
		async = uring_adapt_step(&a, async, t, n);
		CHECK(async && !a.probing && a.switches == 2, "a slower probe was kept");
	}
	CHECK(a.len_ns == URING_ADAPT_RUN_MAX_NS, "window %llu ns after 6 lost probes, want %llu",
	      (unsigned long long)a.len_ns, URING_ADAPT_RUN_MAX_NS);
	/*
	 * An 8 s window that ends up to 3 s late (a slow reap) still decides: a
	 * probe starts. A run window 1 ns later than that sat idle: it decides
	 * nothing, and the measurement starts over (the first window, 1 s after).
	 */
	{
		struct uring_adapt b = a;
		uint64_t late = URING_ADAPT_RUN_MAX_NS + 3 * URING_ADAPT_RUN_NS;

		CHECK(!uring_adapt_step(&b, async, t + late, n + 1000) && b.probing,
		      "an 8 s window 3 s late decided nothing");
		b = a;
		CHECK(uring_adapt_step(&b, async, t + late + 1, n + 1000) && !b.probing &&
			      b.len_ns == URING_ADAPT_FIRST_NS &&
			      b.run_len_ns == URING_ADAPT_RUN_NS,
		      "an idle 8 s window: probing %d, window %llu, run window %llu", b.probing,
		      (unsigned long long)b.len_ns, (unsigned long long)b.run_len_ns);
	}
	/* Idle for a minute: the next step decides nothing and keeps the mode. */
	t += 60000 * MS;
	n += 10;
	async = uring_adapt_step(&a, async, t, n);
	CHECK(async && !a.probing && a.switches == 2, "an idle spell decided something");
	CHECK(a.len_ns == URING_ADAPT_FIRST_NS && a.run_len_ns == URING_ADAPT_RUN_NS,
	      "after an idle spell: window %llu, run window %llu", (unsigned long long)a.len_ns,
	      (unsigned long long)a.run_len_ns);
	/* Idle in the middle of a probe: back to the kept mode, no decision. */
	t += URING_ADAPT_FIRST_NS;
	async = uring_adapt_step(&a, async, t, n + 1000);
	CHECK(!async && a.probing, "no probe after the restart");
	t += 60000 * MS;
	async = uring_adapt_step(&a, async, t, n + 2000);
	CHECK(async && !a.probing && a.switches == 2, "an idle probe decided something");
	return T_PASS;
}
