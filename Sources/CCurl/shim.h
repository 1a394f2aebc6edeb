// libcurl for Swift: curl_easy_setopt/getinfo are variadic, so each argument type gets a typed wrapper.
#ifndef FLYWHEEL_CCURL_SHIM_H
#define FLYWHEEL_CCURL_SHIM_H
#include <curl/curl.h>

typedef size_t (*flywheel_curl_write_fn)(char *ptr, size_t size, size_t nmemb, void *userdata);

static inline CURLcode flywheel_curl_setopt_long(CURL *h, CURLoption o, long v) { return curl_easy_setopt(h, o, v); }
static inline CURLcode flywheel_curl_setopt_string(CURL *h, CURLoption o, const char *v) { return curl_easy_setopt(h, o, v); }
static inline CURLcode flywheel_curl_setopt_pointer(CURL *h, CURLoption o, void *v) { return curl_easy_setopt(h, o, v); }
static inline CURLcode flywheel_curl_setopt_slist(CURL *h, CURLoption o, struct curl_slist *v) { return curl_easy_setopt(h, o, v); }
static inline CURLcode flywheel_curl_setopt_write(CURL *h, CURLoption o, flywheel_curl_write_fn v) { return curl_easy_setopt(h, o, v); }
static inline CURLcode flywheel_curl_getinfo_long(CURL *h, CURLINFO i, long *v) { return curl_easy_getinfo(h, i, v); }
#endif
