#ifndef CPERISCOPECURL_H
#define CPERISCOPECURL_H
// libcurl for Swift: curl_easy_setopt, curl_easy_getinfo and curl_multi_setopt are
// variadic, which Swift cannot call; these typed wrappers can be.
#include <curl/curl.h>

typedef size_t (*CPeriscopeCurl_data_callback)(char *data, size_t size, size_t count, void *context);

CURLcode CPeriscopeCurl_easy_setopt_long(CURL *handle, CURLoption option, long value);
CURLcode CPeriscopeCurl_easy_setopt_off_t(CURL *handle, CURLoption option, curl_off_t value);
CURLcode CPeriscopeCurl_easy_setopt_string(CURL *handle, CURLoption option, const char *value);
CURLcode CPeriscopeCurl_easy_setopt_pointer(CURL *handle, CURLoption option, void *value);
CURLcode CPeriscopeCurl_easy_setopt_slist(CURL *handle, CURLoption option, struct curl_slist *value);
CURLcode CPeriscopeCurl_easy_setopt_blob(CURL *handle, CURLoption option, const void *data, size_t length);
/// CURLOPT_WRITEFUNCTION / CURLOPT_HEADERFUNCTION and friends.
CURLcode CPeriscopeCurl_easy_setopt_data_callback(CURL *handle, CURLoption option, CPeriscopeCurl_data_callback callback);
CURLcode CPeriscopeCurl_easy_getinfo_long(CURL *handle, CURLINFO info, long *value);
CURLcode CPeriscopeCurl_easy_getinfo_string(CURL *handle, CURLINFO info, const char **value);
CURLMcode CPeriscopeCurl_multi_setopt_long(CURLM *handle, CURLMoption option, long value);

typedef int (*CPeriscopeCurl_xferinfo_callback)(void *context, curl_off_t dltotal, curl_off_t dlnow, curl_off_t ultotal, curl_off_t ulnow);
/// CURLOPT_XFERINFOFUNCTION: return non-zero to abort the transfer (used for cancellation).
CURLcode CPeriscopeCurl_easy_setopt_xferinfo_callback(CURL *handle, CPeriscopeCurl_xferinfo_callback callback);

#endif
