#ifndef PERISCOPE_CLIBBPF_SHIM_H
#define PERISCOPE_CLIBBPF_SHIM_H
#include <bpf/libbpf.h>
#include <bpf/bpf.h>
#endif
