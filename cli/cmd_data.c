/* cmd_data: the data commands (see the table at the end). */
#include "cli.h"

const struct command data_commands[] = {
    {NULL, NULL, NULL, NULL},
};
