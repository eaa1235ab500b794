/*
 * A DNS message builder for the DNS unit tests (test_dns_wire.c,
 * test_dns01.c's fake server): header, question and records appended in
 * order, names written without compression (the tests that need
 * compression write it by hand).  Overflows fail the test.
 */
#ifndef CERTO_DNS_TESTPKT_H
#define CERTO_DNS_TESTPKT_H

#include <stddef.h>

#include "dns_wire.h"

/* Sections, as indexes into struct pkt's counts. */
enum { QD = 0, AN = 1, NS = 2, AR = 3 };

/* A message being built. */
struct pkt {
	unsigned char b[4096];
	size_t n;
	unsigned cnt[4];
	int sec;                 /* the section records go to now */
};

/* Append one byte, a 16-bit number, an uncompressed name. */
void put8(struct pkt *pkt, unsigned v);
void put16(struct pkt *pkt, unsigned v);
void put_name(struct pkt *pkt, const char *name);
/* Write p->cnt into the header. */
void pkt_counts(struct pkt *pkt);
/*
 * Start a message: id, flags byte 2 (0x80 QR, 0x04 AA, 0x02 TC, 0x01 RD),
 * rcode in byte 3, and the question (none when qname is NULL).
 */
void pkt_begin(struct pkt *pkt, unsigned id, unsigned flags, int rcode,
    const char *qname, int qtype);
/* A record of class IN with raw rdata, in section sec (AN, NS, AR; never
 * before the previous record's). */
void pkt_rr_raw(struct pkt *pkt, int sec, const char *owner, int type,
    const void *rdata, size_t rdlen);
/*
 * A record from text: A/AAAA address, NS/CNAME target, SOA "mname
 * rname", TXT strings separated by '|'.
 */
void pkt_rr(struct pkt *pkt, int sec, const char *owner, int type,
    const char *data);

#endif
