#ifndef CAIRN_CLIBCRYPTO_SHIM_H
#define CAIRN_CLIBCRYPTO_SHIM_H

// The parts of OpenSSL's libcrypto that Cairn uses: EVP message digests (SHA-256, SHA-1, MD5)
// and the one-shot HMAC() (HMAC_CTX_* is deprecated in OpenSSL 3).
#include <openssl/evp.h>
#include <openssl/hmac.h>
#include <openssl/rand.h>

#endif
