#ifndef CPERISCOPEBPF_H
#define CPERISCOPEBPF_H
// The event and map layouts shared with the kernel programs in bpf/.
#include "../../../bpf/include/periscope_events.h"
#include "../../../bpf/include/periscope_propagation.h"
#endif
