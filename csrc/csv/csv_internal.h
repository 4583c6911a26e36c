/* Internal helpers shared by the CSV tokenizer and converters (not installed). */
#ifndef BO_CSV_INTERNAL_H
#define BO_CSV_INTERNAL_H
#if defined(__SSE2__)
#include <emmintrin.h>
#endif
#include <stddef.h>
#include <stdint.h>

static inline int bo_is_digit(char c) { return (unsigned)(c - '0') < 10u; }
static inline char bo_lower(char c) { return (c >= 'A' && c <= 'Z') ? (char)(c + 32) : c; }
/* Blanks around WKT points, hex IDs and datetimes: spaces and tabs (the V2X kernels' rules,
 * shared with the CSV converters of those types). Blank lines are only these too (tokenize.c),
 * as in pandas' tokenizer. */
static inline int bo_is_space(char c) { return c == ' ' || c == '\t'; }
/* The blanks pandas' number parsers skip around an int or float (C isspace: space, \t \n \v
 * \f \r; a line break can only be inside a quoted field). */
static inline int bo_is_num_space(char c) { return c == ' ' || (unsigned)(c - '\t') < 5u; }

static inline void bo_trim_if(const char **s, size_t *len, int (*blank)(char))
{
    const char *p = *s, *e = *s + *len;
    while (p < e && blank(*p))
        p++;
    while (e > p && blank(e[-1]))
        e--;
    *s = p;
    *len = (size_t)(e - p);
}
/* Trim spaces and tabs on both sides of [*s, *s + *len). */
static inline void bo_trim(const char **s, size_t *len) { bo_trim_if(s, len, bo_is_space); }
/* Trim the blanks around a number (bo_is_num_space). */
static inline void bo_trim_num(const char **s, size_t *len) { bo_trim_if(s, len, bo_is_num_space); }

/* Case-insensitive equality of a field with a lower-case ASCII word. */
static inline int bo_ieq(const char *s, size_t len, const char *word, size_t wlen)
{
    if (len != wlen)
        return 0;
    for (size_t i = 0; i < len; i++)
        if (bo_lower(s[i]) != word[i])
            return 0;
    return 1;
}
#endif
