/* oci.c: placeholder until the OCI runtime lands. */
#include "oci.h"
#include <stdio.h>
int oci_main(int argc, char **argv)
{
	(void)argc;
	(void)argv;
	fputs("krill-oci: error: the OCI runtime is not implemented yet\n", stderr);
	return 125;
}
