#ifndef PERISCOPE_CCURL_SHIM_H
#define PERISCOPE_CCURL_SHIM_H
#include <curl/curl.h>
#endif
