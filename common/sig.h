/*
 * Signals: SIGINT/SIGTERM/SIGHUP set a flag that long waits and transfers
 * check, so every exit path runs its cleanup (challenge state removed).
 */
#ifndef CERTO_SIG_H
#define CERTO_SIG_H

#include <stdint.h>

#include <stdbool.h>

/* Install the handlers (no SA_RESTART). */
void sig_install(void);
/* The signal received, or 0. */
int sig_pending(void);
/* The signal received, cleared (SIGHUP handling in loops), or 0. */
int sig_take(void);
/* Sleep ms milliseconds; CERTO_EINTR early if a signal arrives. */
int sig_sleep_ms(long ms);
/* Milliseconds on the monotonic clock, for deadlines. */
int64_t sig_now_ms(void);

#endif
