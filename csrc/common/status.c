#include "blockops/bo_common.h"

#include <math.h>
#include <stdarg.h>
#include <stdio.h>
#include <string.h>

const char *bo_status_name(bo_status st)
{
    switch (st) {
    case BO_OK: return "BO_OK";
    case BO_ERR_NOMEM: return "BO_ERR_NOMEM";
    case BO_ERR_ARG: return "BO_ERR_ARG";
    case BO_ERR_DOMAIN: return "BO_ERR_DOMAIN";
    case BO_ERR_PARSE: return "BO_ERR_PARSE";
    case BO_ERR_IO: return "BO_ERR_IO";
    case BO_ERR_UNSUPPORTED: return "BO_ERR_UNSUPPORTED";
    case BO_ERR_INTERRUPTED: return "BO_ERR_INTERRUPTED";
    case BO_ERR_LIMIT: return "BO_ERR_LIMIT";
    case BO_ERR_INTERNAL: return "BO_ERR_INTERNAL";
    }
    return "BO_ERR_UNKNOWN";
}

const char *bo_status_str(bo_status st)
{
    switch (st) {
    case BO_OK: return "success";
    case BO_ERR_NOMEM: return "out of memory";
    case BO_ERR_ARG: return "invalid argument";
    case BO_ERR_DOMAIN: return "value outside its valid domain";
    case BO_ERR_PARSE: return "malformed input";
    case BO_ERR_IO: return "input/output error";
    case BO_ERR_UNSUPPORTED: return "not supported by this build or CPU";
    case BO_ERR_INTERRUPTED: return "interrupted";
    case BO_ERR_LIMIT: return "limit exceeded";
    case BO_ERR_INTERNAL: return "internal error (please report)";
    }
    return "unknown status";
}

void bo_error_clear(bo_error *err)
{
    if (!err)
        return;
    err->index = -1;
    err->line = -1;
    err->column = -1;
    err->byte_offset = -1;
    err->value = NAN;
    err->message[0] = '\0';
}

bo_status bo_error_set(bo_error *err, bo_status st, const char *fmt, ...)
{
    if (err && fmt) {
        va_list ap;
        va_start(ap, fmt);
        vsnprintf(err->message, sizeof err->message, fmt, ap);
        va_end(ap);
    }
    return st;
}
