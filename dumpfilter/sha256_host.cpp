// sha256_host.cpp: the purgatory's own SHA-256 (purgatory/sha256.c, freestanding C that is also
// valid C++), compiled for dumpfilter. Not OpenSSL: linking libcrypto costs dumpfilter about
// 1.2 MB of resident memory at start-up, and a capture kernel has little (rss_large holds
// dumpfilter to 16 MiB); tests/unit/test_purgatory checks this code against OpenSSL.
#include "purgatory/sha256.c"
