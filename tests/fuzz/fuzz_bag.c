/*
 * fuzz_bag: libFuzzer target for the parts of vault/bag.c that read text a
 * bag brings: bag-info.txt (labels, values, continuation lines, line ends,
 * UTF-8), manifest path fields (RFC 8493 percent-decoding) and the path
 * rules every bag path must pass. Each input is parsed as bag-info.txt; its
 * lines are also decoded as manifest paths and checked as bag paths; a
 * decoded path that passes the check must also survive the manifest
 * builder and decode back to itself (else it traps).
 *
 * The tar reading of a bundle (import-bundle) is fuzz_tar's.
 *
 *   make fuzz (or make test, for a short run)
 */
#include <stddef.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "../../vault/bag.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    bag_info bi;
    report r = {0};
    ev_err e;
    const char *text = (const char *)data;
    size_t start = 0;

    memset(&bi, 0, sizeof bi);
    if (bag_info_parse(text, size, &bi, &r, &e) == 0)
        (void)bag_info_get(&bi, "Payload-Oxum");
    bag_info_clear(&bi);
    report_clear(&r);

    while (start < size) {
        const char *nl = memchr(text + start, '\n', size - start);
        size_t len = nl ? (size_t)(nl - text) - start : size - start;
        char *dec = NULL, *enc = NULL, *back = NULL;
        size_t declen = 0, backlen = 0;

        if (len < 8192 &&
            bag_path_decode(text + start, len, &dec, &declen, &e) == 0 &&
            strlen(dec) == declen && bag_path_check(dec, &e) == 0) {
            if (bag_path_encode(dec, &enc, &e) != 0)
                abort();
            if (bag_path_decode(enc, strlen(enc), &back, &backlen, &e) != 0 ||
                backlen != declen || memcmp(back, dec, declen) != 0)
                abort();
        }
        free(dec);
        free(enc);
        free(back);
        start += len + 1;
    }
    return 0;
}
