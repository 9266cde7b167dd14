#include "CPeriscopeCurl.h"

CURLcode CPeriscopeCurl_easy_setopt_long(CURL *handle, CURLoption option, long value)
{
    return curl_easy_setopt(handle, option, value);
}

CURLcode CPeriscopeCurl_easy_setopt_off_t(CURL *handle, CURLoption option, curl_off_t value)
{
    return curl_easy_setopt(handle, option, value);
}

CURLcode CPeriscopeCurl_easy_setopt_string(CURL *handle, CURLoption option, const char *value)
{
    return curl_easy_setopt(handle, option, value);
}

CURLcode CPeriscopeCurl_easy_setopt_pointer(CURL *handle, CURLoption option, void *value)
{
    return curl_easy_setopt(handle, option, value);
}

CURLcode CPeriscopeCurl_easy_setopt_slist(CURL *handle, CURLoption option, struct curl_slist *value)
{
    return curl_easy_setopt(handle, option, value);
}

CURLcode CPeriscopeCurl_easy_setopt_blob(CURL *handle, CURLoption option, const void *data, size_t length)
{
    struct curl_blob blob = {.data = (void *)data, .len = length, .flags = CURL_BLOB_COPY};
    return curl_easy_setopt(handle, option, &blob);
}

CURLcode CPeriscopeCurl_easy_setopt_data_callback(CURL *handle, CURLoption option, CPeriscopeCurl_data_callback callback)
{
    return curl_easy_setopt(handle, option, callback);
}

CURLcode CPeriscopeCurl_easy_getinfo_long(CURL *handle, CURLINFO info, long *value)
{
    return curl_easy_getinfo(handle, info, value);
}

CURLcode CPeriscopeCurl_easy_getinfo_string(CURL *handle, CURLINFO info, const char **value)
{
    return curl_easy_getinfo(handle, info, value);
}

CURLMcode CPeriscopeCurl_multi_setopt_long(CURLM *handle, CURLMoption option, long value)
{
    return curl_multi_setopt(handle, option, value);
}

CURLcode CPeriscopeCurl_easy_setopt_xferinfo_callback(CURL *handle, CPeriscopeCurl_xferinfo_callback callback)
{
    return curl_easy_setopt(handle, CURLOPT_XFERINFOFUNCTION, callback);
}
