/* ps.c: placeholder until join/exec/ps land. */
#include "ps.h"
#include <stdio.h>
int exec_main(int argc, char **argv)
{
	(void)argc;
	(void)argv;
	fputs("krill: error: krill exec is not implemented yet\n", stderr);
	return 125;
}
int ps_main(int argc, char **argv)
{
	(void)argc;
	(void)argv;
	fputs("krill: error: krill ps is not implemented yet\n", stderr);
	return 125;
}
