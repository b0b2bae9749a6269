/*
 * recovery: high-entropy recovery codes. A code is 20 random bytes (160 bits)
 * written in RFC 4648 base32 as 8 groups of 4 characters joined by '-', e.g.
 * "K7QF-2MXA-...". Parsing ignores case, spaces and dashes, and reads the
 * digits 0 and 1 as the letters O and I, which base32 does not use.
 */
#ifndef EV_RECOVERY_H
#define EV_RECOVERY_H

#include <stddef.h>
#include <stdint.h>

#define RECOVERY_BYTES 20
#define RECOVERY_TEXTLEN 39 /* without the terminating NUL */

/* Fill code with fresh random bytes. OUT: code (20 bytes). */
void recovery_generate(uint8_t *code);

/* Write code as text. OUT: text (at least RECOVERY_TEXTLEN + 1 bytes). */
void recovery_format(char *text, const uint8_t *code);

/*
 * Parse text of length len as a recovery code. OUT: code (20 bytes).
 * Returns 0, or -1 when text is not a recovery code (code is then zeroed).
 */
int recovery_parse(uint8_t *code, const char *text, size_t len)
    __attribute__((warn_unused_result));

#endif
