/* Signal flag and interruptible sleep. */
#include "sig.h"

#include <errno.h>
#include <signal.h>
#include <string.h>
#include <time.h>

#include "errors.h"

static volatile sig_atomic_t got_signal;

static void
on_signal(int sig)
{
	got_signal = sig;
}

/* Install the handlers (no SA_RESTART). */
void
sig_install(void)
{
	struct sigaction sa;

	memset(&sa, 0, sizeof(sa));
	sa.sa_handler = on_signal;
	sigemptyset(&sa.sa_mask);
	sigaction(SIGINT, &sa, NULL);
	sigaction(SIGTERM, &sa, NULL);
	sigaction(SIGHUP, &sa, NULL);
	sa.sa_handler = SIG_IGN;
	sigaction(SIGPIPE, &sa, NULL);
}

/* The signal received, or 0. */
int
sig_pending(void)
{
	return got_signal;
}

/* The signal received, cleared (SIGHUP handling in loops), or 0. */
int
sig_take(void)
{
	int s = got_signal;

	got_signal = 0;
	return s;
}

/* Sleep ms milliseconds. */
int
sig_sleep_ms(long ms)
{
	struct timespec ts;

	ts.tv_sec = ms / 1000;
	ts.tv_nsec = (ms % 1000) * 1000000L;
	while (!got_signal && nanosleep(&ts, &ts) != 0 && errno == EINTR)
		;
	if (got_signal)
		return certo_fail(CERTO_EINTR, "interrupted by signal %d",
		    (int)got_signal);
	return 0;
}

int64_t
sig_now_ms(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_MONOTONIC, &ts);
	return (int64_t)ts.tv_sec * 1000 + ts.tv_nsec / 1000000;
}
