/* check.h: `krill check`: what this host allows this user, and hints. */
#ifndef KRILL_CHECK_H
#define KRILL_CHECK_H

#include <stdbool.h>

int check_main(int argc, char **argv);

/* For --feature: does FEAT work here, for this caller? */
bool check_feature_works(const char *feat);

#endif
