/* oci.h: the OCI runtime front door (`krill oci`, `krill-oci`). */
#ifndef KRILL_OCI_H
#define KRILL_OCI_H
int oci_main(int argc, char **argv);
#endif
