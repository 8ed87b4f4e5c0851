// SPDX-License-Identifier: MIT
/* The throttle engine: device specs (presets, overrides) parse, and bad ones do not. */
#include <rawio/engine.h>

#include "harness.h"

int main(void)
{
	struct rawio_throttle_params p;

	CHECK_OK(rawio_throttle_parse("hdd", &p));
	CHECK(p.iops == 5000 && p.seek_us == 4000 && p.flush_us == 5000 && p.bw == 150u << 20,
	      "hdd");
	CHECK_OK(rawio_throttle_parse("ssd,flush=1ms,seek=0.5ms,iops=2k,span=1g", &p));
	CHECK(p.iops == 2000 && p.flush_us == 1000 && p.seek_us == 500 && p.span == 1ull << 30 &&
		      p.bw == 500u << 20,
	      "ssd with overrides");
	CHECK(rawio_throttle_parse("floppy", &p) == -EINVAL, "unknown preset");
	CHECK(rawio_throttle_parse("seek=fast", &p) == -EINVAL, "bad time");
	CHECK(rawio_throttle_parse("color=red", &p) == -EINVAL, "unknown key");
	return T_PASS;
}
