#include "greet.h"

const char *greeting(void) {
    return GREETING ", world";
}
