/* cmd_evidence: the evidence commands (see the table at the end). */
#include "cli.h"

const struct command evidence_commands[] = {
    {NULL, NULL, NULL, NULL},
};
