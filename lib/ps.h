/* ps.h: `krill exec` and `krill ps`: finding and entering running containers. */
#ifndef KRILL_PS_H
#define KRILL_PS_H
int exec_main(int argc, char **argv);
int ps_main(int argc, char **argv);
#endif
