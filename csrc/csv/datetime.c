/* Datetime converters: a strptime subset (compiled once per column) and ISO-8601, to int64
 * nanoseconds since 1970-01-01 (naive; ISO offsets are converted to UTC). Out of the
 * datetime64[ns] range (1677-09-21 .. 2262-04-11) is an error, never a wrapped value. */
#include <string.h>

#include "blockops/bo_csv.h"
#include "csv_internal.h"
#include "numparse.h"
#include "numparse_fast.h"

bo_status bo_csv_dtfmt_compile(const char *fmt, bo_csv_dtfmt *out, bo_error *err)
{
    memset(out, 0, sizeof *out);
    for (const char *p = fmt; *p; p++) {
        if (out->n >= BO_CSV_DTFMT_MAX)
            return bo_error_set(err, BO_ERR_ARG, "datetime format too long");
        if (*p == '%') {
            char d = p[1];
            if (!d || !strchr("YymdHIMSfpb%", d))
                return bo_error_set(err, BO_ERR_ARG,
                                    "unsupported directive %%%c in datetime format (supported: "
                                    "%%Y %%y %%m %%d %%H %%I %%M %%S %%f %%p %%b %%%%)",
                                    d ? d : '?');
            p++;
            if (d == '%') {
                out->op[out->n] = 'L';
                out->lit[out->n++] = '%';
            } else {
                out->op[out->n++] = d;
            }
        } else if (bo_is_space(*p)) {
            while (bo_is_space(p[1]))
                p++;
            out->op[out->n++] = ' ';
        } else {
            out->op[out->n] = 'L';
            out->lit[out->n++] = *p;
        }
    }
    return BO_OK;
}

/* Days from 1970-01-01 to y-m-d (proleptic Gregorian; H. Hinnant's days_from_civil). */
static int64_t days_from_civil(int64_t y, int m, int d)
{
    y -= m <= 2;
    const int64_t era = (y >= 0 ? y : y - 399) / 400;
    const int64_t yoe = y - era * 400;
    const int64_t doy = (153 * (m + (m > 2 ? -3 : 9)) + 2) / 5 + d - 1;
    const int64_t doe = yoe * 365 + yoe / 4 - yoe / 100 + doy;
    return era * 146097 + doe - 719468;
}

static int days_in_month(int64_t y, int m)
{
    static const int dm[12] = {31, 28, 31, 30, 31, 30, 31, 31, 30, 31, 30, 31};
    if (m == 2 && ((y % 4 == 0 && y % 100 != 0) || y % 400 == 0))
        return 29;
    return dm[m - 1];
}

/* Read 1..maxd digits. */
static int read_num(const char **p, const char *end, int mind, int maxd, int64_t *v)
{
    const char *s = *p;
    int64_t x = 0;
    int k = 0;
    while (s < end && k < maxd && bo_is_digit(*s)) {
        x = x * 10 + (*s - '0');
        s++;
        k++;
    }
    if (k < mind)
        return -1;
    *p = s;
    *v = x;
    return 0;
}

typedef struct {
    int64_t y;
    int mo, d, h, mi, s;
    int64_t frac_ns;
    int64_t offset_s;
} civil;

static int civil_to_ns(const civil *c, int64_t *ns)
{
    if (c->mo < 1 || c->mo > 12 || c->d < 1 || c->d > days_in_month(c->y, c->mo) || c->h < 0 ||
        c->h > 23 || c->mi < 0 || c->mi > 59 || c->s < 0 || c->s > 59)
        return -1;
    if (c->y < 1677 || c->y > 2262)
        return -2;
    int64_t days = days_from_civil(c->y, c->mo, c->d);
    int64_t secs = days * 86400 + c->h * 3600 + c->mi * 60 + c->s - c->offset_s;
    /* datetime64[ns] holds [-9223372036.854775808 s, 9223372036.854775807 s] */
    if (secs < -9223372036LL + 1 || secs > 9223372036LL - 1)
        return -2;
    *ns = secs * 1000000000LL + c->frac_ns;
    return 0;
}

static int64_t frac_to_ns(const char **p, const char *end, int *ok)
{
    const char *s = *p;
    int64_t v = 0;
    int k = 0;
    while (s < end && bo_is_digit(*s)) {
        if (k < 9) {
            v = v * 10 + (*s - '0');
            k++;
        } else if (*s != '0') {
            /* finer than a nanosecond: truncated like numpy does */
        }
        s++;
    }
    *ok = s > *p;
    for (; k < 9; k++)
        v *= 10;
    *p = s;
    return v;
}

/* The general strptime interpreter (the reference for the fast path below). */
int bo_parse_datetime_fmt_ref(const char *s, size_t len, const bo_csv_dtfmt *f, int64_t *ns)
{
    bo_trim(&s, &len);
    const char *p = s, *end = s + len;
    civil c = {1900, 1, 1, 0, 0, 0, 0, 0};
    int hour12 = -1, pm = -1;
    static const char months[12][4] = {"jan", "feb", "mar", "apr", "may", "jun",
                                       "jul", "aug", "sep", "oct", "nov", "dec"};
    for (int i = 0; i < f->n; i++) {
        int64_t v;
        switch (f->op[i]) {
        case 'L':
            if (p == end || *p != f->lit[i])
                return -1;
            p++;
            break;
        case ' ':
            if (p == end || !bo_is_space(*p))
                return -1;
            while (p < end && bo_is_space(*p))
                p++;
            break;
        case 'Y':
            if (read_num(&p, end, 4, 4, &v))
                return -1;
            c.y = v;
            break;
        case 'y':
            if (read_num(&p, end, 2, 2, &v))
                return -1;
            c.y = v < 69 ? 2000 + v : 1900 + v; /* POSIX: 69-99 -> 19xx, 00-68 -> 20xx */
            break;
        case 'm':
            if (read_num(&p, end, 1, 2, &v))
                return -1;
            c.mo = (int)v;
            break;
        case 'd':
            if (read_num(&p, end, 1, 2, &v))
                return -1;
            c.d = (int)v;
            break;
        case 'H':
            if (read_num(&p, end, 1, 2, &v))
                return -1;
            c.h = (int)v;
            break;
        case 'I':
            if (read_num(&p, end, 1, 2, &v) || v < 1 || v > 12)
                return -1;
            hour12 = (int)v;
            break;
        case 'M':
            if (read_num(&p, end, 1, 2, &v))
                return -1;
            c.mi = (int)v;
            break;
        case 'S':
            if (read_num(&p, end, 1, 2, &v))
                return -1;
            c.s = (int)v;
            break;
        case 'f': {
            int ok;
            c.frac_ns = frac_to_ns(&p, end, &ok);
            if (!ok)
                return -1;
            break;
        }
        case 'p':
            if (end - p < 2 || bo_lower(p[1]) != 'm' ||
                (bo_lower(p[0]) != 'a' && bo_lower(p[0]) != 'p'))
                return -1;
            pm = bo_lower(p[0]) == 'p';
            p += 2;
            break;
        case 'b': {
            int found = 0;
            if (end - p >= 3)
                for (int m = 0; m < 12; m++)
                    if (bo_lower(p[0]) == months[m][0] && bo_lower(p[1]) == months[m][1] &&
                        bo_lower(p[2]) == months[m][2]) {
                        c.mo = m + 1;
                        found = 1;
                        break;
                    }
            if (!found)
                return -1;
            p += 3;
            break;
        }
        default:
            return -1;
        }
    }
    if (p != end)
        return -1;
    if (hour12 >= 0) /* %I with %p: 12 AM is 0h, 12 PM is 12h; %I without %p is taken as AM */
        c.h = hour12 % 12 + (pm == 1 ? 12 : 0);
    return civil_to_ns(&c, ns);
}

/* The BSM timestamp format at full width goes through bo_datetime_bsm_fast (numparse_fast.h),
 * every other text and format through the interpreter above, which decides the same way for
 * the text the fast path takes. */
int bo_parse_datetime_fmt(const char *s, size_t len, const bo_csv_dtfmt *f, int64_t *ns)
{
    if (bo_dtfmt_is_bsm(f)) {
        const char *t = s;
        size_t n = len;
        bo_trim(&t, &n);
        if (n == 22) {
            const int rc = bo_datetime_bsm_fast(t, ns);
            if (rc <= 0)
                return rc;
        }
    }
    return bo_parse_datetime_fmt_ref(s, len, f, ns);
}

int bo_parse_datetime_iso(const char *s, size_t len, int64_t *ns)
{
    /* the commonest shape, with its own fixed-place tests; any other text, and this shape
     * with a field out of range, the general reader below (the same result for the shape) */
    if (bo_iso_fast(s, len, ns) == 0)
        return 0;
    bo_trim(&s, &len);
    const char *p = s, *end = s + len;
    civil c = {0, 1, 1, 0, 0, 0, 0, 0};
    int64_t v;
    if (read_num(&p, end, 4, 4, &v))
        return -1;
    c.y = v;
    if (p == end || *p != '-')
        return -1;
    p++;
    if (read_num(&p, end, 2, 2, &v))
        return -1;
    c.mo = (int)v;
    if (p == end || *p != '-')
        return -1;
    p++;
    if (read_num(&p, end, 2, 2, &v))
        return -1;
    c.d = (int)v;
    if (p < end) {
        if (*p != 'T' && *p != 't' && *p != ' ')
            return -1;
        p++;
        if (read_num(&p, end, 2, 2, &v))
            return -1;
        c.h = (int)v;
        if (p == end || *p != ':')
            return -1;
        p++;
        if (read_num(&p, end, 2, 2, &v))
            return -1;
        c.mi = (int)v;
        if (p < end && *p == ':') {
            p++;
            if (read_num(&p, end, 2, 2, &v))
                return -1;
            c.s = (int)v;
            if (p < end && (*p == '.' || *p == ',')) {
                p++;
                int ok;
                c.frac_ns = frac_to_ns(&p, end, &ok);
                if (!ok)
                    return -1;
            }
        }
        if (p < end) {
            if (*p == 'Z' || *p == 'z') {
                p++;
            } else if (*p == '+' || *p == '-') {
                int sign = *p == '-' ? -1 : 1;
                p++;
                int64_t oh, om = 0;
                if (read_num(&p, end, 2, 2, &oh))
                    return -1;
                if (p < end && *p == ':')
                    p++;
                if (p < end && read_num(&p, end, 2, 2, &om))
                    return -1;
                if (oh > 23 || om > 59)
                    return -1;
                c.offset_s = sign * (oh * 3600 + om * 60);
            } else {
                return -1;
            }
        }
    }
    if (p != end)
        return -1;
    return civil_to_ns(&c, ns);
}
