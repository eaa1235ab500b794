/* One polling model for every wait on the CA (see polling.h). */
#include "polling.h"

#include "errors.h"
#include "sig.h"

/* Start a wait on what (borrowed) with timeout_s (<= 0: the default). */
void
polling_start(struct polling *polling, const char *what, long timeout_s)
{
	polling->what = what;
	polling->timeout_s = timeout_s > 0 ? timeout_s : POLL_DEFAULT_TIMEOUT_S;
	polling->started = time(NULL);
	polling->attempt = 0;
}

/* The polled object moved on: the wait starts anew. */
void
polling_progress(struct polling *polling)
{
	polling->started = time(NULL);
	polling->attempt = 0;
}

/* Sleep before the next poll, or fail when the wait is used up. */
int
polling_wait(struct polling *polling, long retry_after)
{
	time_t now = time(NULL);
	time_t deadline = polling->started + polling->timeout_s;
	long ms;

	if (now >= deadline || polling->attempt >= POLL_MAX_REQUESTS)
		return certo_fail(CERTO_ETIMEDOUT, "%s: still not done after "
		    "%ld s and %u polls without progress (--ca-timeout)",
		    polling->what, (long)(now - polling->started),
		    polling->attempt);
	if (retry_after >= 0) {
		if (retry_after > POLL_MAX_RETRY_AFTER_S)
			retry_after = POLL_MAX_RETRY_AFTER_S;
		ms = retry_after * 1000;
	} else {
		ms = POLL_FIRST_BACKOFF_MS << (polling->attempt < 11 ?
		    polling->attempt : 11);
		if (ms > POLL_MAX_BACKOFF_MS)
			ms = POLL_MAX_BACKOFF_MS;
	}
	if (ms > (long)(deadline - now) * 1000)
		ms = (long)(deadline - now) * 1000;
	if (ms < POLL_FIRST_BACKOFF_MS)
		ms = POLL_FIRST_BACKOFF_MS;
	polling->attempt++;
	return sig_sleep_ms(ms);
}
