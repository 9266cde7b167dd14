#ifndef CPERISCOPEZLIB_H
#define CPERISCOPEZLIB_H
// zlib, for gzip-compressed OTLP request bodies.
#include <zlib.h>
#endif
