/* libFuzzer target: certo-responder control lines (local, but hostile). */
#include <stddef.h>
#include <stdint.h>

#include "ctl.h"
#include "errors.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

int
LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	struct ctl_request req;
	const char *err = NULL;

	(void)ctl_parse_line((const char *)data, size, &req, &err);
	certo_errclear();
	return 0;
}
