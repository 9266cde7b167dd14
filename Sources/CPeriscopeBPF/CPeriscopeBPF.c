// Helpers for Swift callers of the shared BPF layout.
#include "CPeriscopeBPF.h"
