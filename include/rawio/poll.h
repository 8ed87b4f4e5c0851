/* SPDX-License-Identifier: MIT */
/*
 * poll: kept for code written before the split; includes what it declared.
 * The wait modes are in rawio/engine.h, the predictor in rawio/predict.h, the
 * simulator and live replay in rawio/pollsim.h. New code includes those.
 */
#ifndef RAWIO_POLL_H
#define RAWIO_POLL_H

#include <rawio/engine.h>
#include <rawio/pollsim.h>
#include <rawio/predict.h>

#endif
