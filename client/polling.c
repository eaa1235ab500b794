/* One polling model for every wait on the CA (see polling.h). */
#include "polling.h"

#include "errors.h"
#include "sig.h"

void
polling_start(struct polling *p, const char *what, long timeout_s)
{
	p->what = what;
	p->timeout_s = timeout_s > 0 ? timeout_s : POLL_DEFAULT_TIMEOUT_S;
	p->started = time(NULL);
	p->attempt = 0;
}

void
polling_progress(struct polling *p)
{
	p->started = time(NULL);
	p->attempt = 0;
}

int
polling_wait(struct polling *p, long retry_after)
{
	time_t now = time(NULL), deadline = p->started + p->timeout_s;
	long ms;

	if (now >= deadline || p->attempt >= POLL_MAX_REQUESTS)
		return certo_fail(CERTO_ETIMEDOUT, "%s: still not done after "
		    "%ld s and %u polls without progress (--ca-timeout)", p->what,
		    (long)(now - p->started), p->attempt);
	if (retry_after >= 0) {
		if (retry_after > POLL_MAX_RETRY_AFTER_S)
			retry_after = POLL_MAX_RETRY_AFTER_S;
		ms = retry_after * 1000;
	} else {
		ms = 10L << (p->attempt < 10 ? p->attempt : 10);
		if (ms > POLL_MAX_BACKOFF_MS)
			ms = POLL_MAX_BACKOFF_MS;
	}
	if (ms > (long)(deadline - now) * 1000)
		ms = (long)(deadline - now) * 1000;
	if (ms < 10)
		ms = 10;
	p->attempt++;
	return sig_sleep_ms(ms);
}
