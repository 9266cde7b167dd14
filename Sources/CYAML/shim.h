#ifndef PERISCOPE_CYAML_SHIM_H
#define PERISCOPE_CYAML_SHIM_H
#include <yaml.h>
#endif
