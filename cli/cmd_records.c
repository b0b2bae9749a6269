/* cmd_records: the records commands (see the table at the end). */
#include "cli.h"

const struct command records_commands[] = {
    {NULL, NULL, NULL, NULL},
};
