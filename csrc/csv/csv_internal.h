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
/* The blanks pandas' number parsers skip around a number (C isspace: space, \t \n \v \f \r;
 * a line break can only be inside a quoted field). Blank lines are only spaces and tabs
 * (tokenize.c), as in pandas' tokenizer. */
static inline int bo_is_space(char c) { return c == ' ' || (unsigned)(c - '\t') < 5u; }

/* Trim blanks (bo_is_space) on both sides of [*s, *s + *len). */
static inline void bo_trim(const char **s, size_t *len)
{
    const char *p = *s, *e = *s + *len;
    while (p < e && bo_is_space(*p))
        p++;
    while (e > p && bo_is_space(e[-1]))
        e--;
    *s = p;
    *len = (size_t)(e - p);
}

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
