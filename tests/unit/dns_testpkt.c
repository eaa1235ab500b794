/* The DNS message builder of the unit tests (see dns_testpkt.h). */
#include "testutil.h"

#include <arpa/inet.h>
#include <stdio.h>
#include <string.h>
#include <sys/socket.h>

#include "dns_testpkt.h"

/* Append one byte (see dns_testpkt.h). */
void
put8(struct pkt *pkt, unsigned v)
{
	assert_true(pkt->n < sizeof(pkt->b));
	pkt->b[pkt->n++] = (unsigned char)v;
}

/* Append a 16-bit number. */
void
put16(struct pkt *pkt, unsigned v)
{
	put8(pkt, v >> 8 & 0xff);
	put8(pkt, v & 0xff);
}

/* Append an uncompressed name. */
void
put_name(struct pkt *pkt, const char *name)
{
	const char *s = name, *dot;

	while (*s != '\0') {
		size_t l;
		dot = strchr(s, '.');
		l = dot != NULL ? (size_t)(dot - s) : strlen(s);
		assert_true(l > 0 && l < 64);
		put8(pkt, (unsigned)l);
		for (size_t i = 0; i < l; i++)
			put8(pkt, (unsigned char)s[i]);
		s += l;
		if (*s == '.')
			s++;
	}
	put8(pkt, 0);
}

/* Write the counts into the header. */
void
pkt_counts(struct pkt *pkt)
{
	for (int i = 0; i < 4; i++) {
		pkt->b[4 + 2 * i] = (unsigned char)(pkt->cnt[i] >> 8);
		pkt->b[5 + 2 * i] = (unsigned char)(pkt->cnt[i] & 0xff);
	}
}

/* Header and question; flags byte 2 (QR AA RD...), rcode in byte 3. */
void
pkt_begin(struct pkt *pkt, unsigned id, unsigned flags, int rcode,
    const char *qname, int qtype)
{
	memset(pkt, 0, sizeof(*pkt));
	put16(pkt, id);
	put8(pkt, flags);
	put8(pkt, (unsigned)rcode);
	put16(pkt, 0);
	put16(pkt, 0);
	put16(pkt, 0);
	put16(pkt, 0);
	if (qname != NULL) {
		put_name(pkt, qname);
		put16(pkt, (unsigned)qtype);
		put16(pkt, 1);
		pkt->cnt[QD] = 1;
	}
	pkt->sec = AN;
	pkt_counts(pkt);
}

/* A record with raw rdata. */
void
pkt_rr_raw(struct pkt *pkt, int sec, const char *owner, int type,
    const void *rdata, size_t rdlen)
{
	assert_true(sec >= pkt->sec);
	pkt->sec = sec;
	put_name(pkt, owner);
	put16(pkt, (unsigned)type);
	put16(pkt, 1);
	put16(pkt, 0);
	put16(pkt, 60);
	put16(pkt, (unsigned)rdlen);
	assert_true(pkt->n + rdlen <= sizeof(pkt->b));
	memcpy(pkt->b + pkt->n, rdata, rdlen);
	pkt->n += rdlen;
	pkt->cnt[sec]++;
	pkt_counts(pkt);
}

/*
 * A record from text: A/AAAA address, NS/CNAME target, SOA "mname
 * rname", TXT strings separated by '|'.
 */
void
pkt_rr(struct pkt *pkt, int sec, const char *owner, int type, const char *data)
{
	struct pkt rdata;
	const char *s, *bar;

	memset(&rdata, 0, sizeof(rdata));
	switch (type) {
	case DNS_T_A:
		assert_int_equal(inet_pton(AF_INET, data, rdata.b), 1);
		rdata.n = 4;
		break;
	case DNS_T_AAAA:
		assert_int_equal(inet_pton(AF_INET6, data, rdata.b), 1);
		rdata.n = 16;
		break;
	case DNS_T_NS:
	case DNS_T_CNAME:
		put_name(&rdata, data);
		break;
	case DNS_T_SOA: {
		char m[256];
		s = strchr(data, ' ');
		assert_non_null(s);
		snprintf(m, sizeof(m), "%.*s", (int)(s - data), data);
		put_name(&rdata, m);
		put_name(&rdata, s + 1);
		for (int i = 0; i < 5; i++) {
			put16(&rdata, 0);
			put16(&rdata, 60);
		}
		break;
	}
	case DNS_T_TXT:
		for (s = data;;) {
			size_t l;
			bar = strchr(s, '|');
			l = bar != NULL ? (size_t)(bar - s) : strlen(s);
			assert_true(l < 256);
			put8(&rdata, (unsigned)l);
			for (size_t i = 0; i < l; i++)
				put8(&rdata, (unsigned char)s[i]);
			if (bar == NULL)
				break;
			s = bar + 1;
		}
		break;
	default:
		fail_msg("pkt_rr: type %d", type);
	}
	pkt_rr_raw(pkt, sec, owner, type, rdata.b, rdata.n);
}
