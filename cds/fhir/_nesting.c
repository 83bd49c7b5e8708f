/* How deeply JSON nests, and whether msgspec's syntax check alone settles it, read in one pass
 * without building it.
 *
 * orjson has no nesting limit low enough for the recursive code downstream, and every exact
 * pure-Python scan cost about a sixth of a 1000-resource call. The answer holds for valid JSON: then
 * backslashes occur only in strings, and a quote is escaped exactly when the backslash before it is
 * not itself escaped. Where SSE2 is available (every x86-64), 64 bytes are read at once as bit masks;
 * elsewhere, for the last bytes, and for any block the masks cannot settle, one character at a time.
 *
 * msgspec refuses every text outside the JSON grammar, even in values it skips, but it accepts some
 * grammatical texts orjson refuses: invalid UTF-8 inside skipped strings, and numbers that overflow
 * a double. A text is "unusual" when it could be either: bytes that are not valid UTF-8 (as orjson
 * reads it: no overlong forms, no surrogates, nothing past U+10FFFF), a number with an exponent or
 * with 19 or more integer digits (so every other number is below 1e18), or a \u escape of a
 * surrogate (which msgspec checks too; flagged so that nothing here rests on that). What msgspec
 * accepts and is not unusual, orjson accepts.
 */
#define PY_SSIZE_T_CLEAN
#include <Python.h>
#include <stdint.h>
#if defined(__SSE2__)
#include <emmintrin.h>
#endif

#define PLAIN 0
#define DEEPER 1
#define UNUSUAL 2
#define LONG_DIGITS 19 /* an integer part this long may not fit 64 bits */

/* Where a left-to-right reading of the text stands. */
struct reading {
    Py_ssize_t depth;
    int in_string;
    int escaped;     /* the previous character was a backslash that escapes this one */
    int unusual;
    int after_u;     /* the previous character was an escaped 'u' */
    int after_dot;   /* the previous character was a '.' outside strings */
    int digits;      /* digits outside strings the previous character ends, at most LONG_DIGITS */
    int fraction;    /* those digits follow a '.' */
    int utf8_needed; /* continuation bytes still to come */
    unsigned char utf8_low, utf8_high; /* the range the next continuation byte must be in */
};

/* Reads one byte as part of UTF-8 text, as orjson accepts it. */
static inline void
read_utf8(struct reading *r, unsigned char c)
{
    if (r->utf8_needed) {
        if (c < r->utf8_low || c > r->utf8_high) {
            r->unusual = 1;
        }
        r->utf8_needed--;
        r->utf8_low = 0x80;
        r->utf8_high = 0xBF;
        return;
    }
    if (c < 0x80) {
        return;
    }
    r->utf8_low = 0x80;
    r->utf8_high = 0xBF;
    if (c >= 0xC2 && c <= 0xDF) {
        r->utf8_needed = 1;
    }
    else if (c >= 0xE0 && c <= 0xEF) {
        r->utf8_needed = 2;
        if (c == 0xE0) {
            r->utf8_low = 0xA0;
        }
        else if (c == 0xED) {
            r->utf8_high = 0x9F;
        }
    }
    else if (c >= 0xF0 && c <= 0xF4) {
        r->utf8_needed = 3;
        if (c == 0xF0) {
            r->utf8_low = 0x90;
        }
        else if (c == 0xF4) {
            r->utf8_high = 0x8F;
        }
    }
    else {
        r->unusual = 1;
    }
}

/* Reads one byte outside strings as part of a number, if it is one. */
static inline void
read_number(struct reading *r, unsigned char c)
{
    if (c >= '0' && c <= '9') {
        if (r->digits == 0) {
            r->fraction = r->after_dot;
        }
        if (r->digits < LONG_DIGITS) {
            r->digits++;
        }
        if (r->digits == LONG_DIGITS && !r->fraction) {
            r->unusual = 1;
        }
    }
    else {
        if ((c | 0x20) == 'e' && r->digits > 0) {
            r->unusual = 1;
        }
        r->digits = 0;
    }
    r->after_dot = c == '.';
}

/* Reads text[from:to] one character at a time; 1 as soon as the depth passes limit. */
static int
walk(struct reading *r, const unsigned char *text, Py_ssize_t from, Py_ssize_t to, Py_ssize_t limit)
{
    for (Py_ssize_t i = from; i < to; i++) {
        const unsigned char c = text[i];
        read_utf8(r, c);
        if (r->in_string) {
            if (r->after_u) {
                if ((c | 0x20) == 'd') {
                    r->unusual = 1;
                }
                r->after_u = 0;
            }
            if (r->escaped) {
                r->escaped = 0;
                r->after_u = c == 'u';
            }
            else if (c == '\\') {
                r->escaped = 1;
            }
            else if (c == '"') {
                r->in_string = 0;
            }
            continue;
        }
        read_number(r, c);
        if (c == '"') {
            r->in_string = 1;
        }
        else if (c == '[' || c == '{') {
            if (++r->depth > limit) {
                return 1;
            }
        }
        else if (c == ']' || c == '}') {
            r->depth--;
        }
    }
    return 0;
}

#if defined(__SSE2__)
#define BLOCK 64

/* Bit k set where block byte k, or-ed with fold, is wanted. */
static inline uint64_t
where(const __m128i part[4], unsigned char wanted, unsigned char fold)
{
    const __m128i w = _mm_set1_epi8((char)wanted);
    const __m128i f = _mm_set1_epi8((char)fold);
    uint64_t bits = 0;
    for (int k = 0; k < 4; k++) {
        const int found = _mm_movemask_epi8(_mm_cmpeq_epi8(_mm_or_si128(part[k], f), w));
        bits |= (uint64_t)(uint16_t)found << (16 * k);
    }
    return bits;
}

/* Bit k set where block byte k is a decimal digit. */
static inline uint64_t
digits_in(const __m128i part[4])
{
    const __m128i below = _mm_set1_epi8('0' - 1);
    const __m128i above = _mm_set1_epi8('9' + 1);
    uint64_t bits = 0;
    for (int k = 0; k < 4; k++) {
        const __m128i digit = _mm_and_si128(_mm_cmpgt_epi8(part[k], below), _mm_cmplt_epi8(part[k], above));
        bits |= (uint64_t)(uint16_t)_mm_movemask_epi8(digit) << (16 * k);
    }
    return bits;
}

/* Bit k set where block byte k is not ASCII. */
static inline uint64_t
high_bytes(const __m128i part[4])
{
    uint64_t bits = 0;
    for (int k = 0; k < 4; k++) {
        bits |= (uint64_t)(uint16_t)_mm_movemask_epi8(part[k]) << (16 * k);
    }
    return bits;
}

/* Bit k set where an odd number of bits 0..k are. */
static inline uint64_t
prefix_parity(uint64_t bits)
{
    for (int shift = 1; shift < BLOCK; shift *= 2) {
        bits ^= bits << shift;
    }
    return bits;
}

/* Bit k set where bits k..k+LONG_DIGITS-1 all are. */
static inline uint64_t
long_runs(uint64_t bits)
{
    const uint64_t two = bits & bits >> 1;
    const uint64_t four = two & two >> 2;
    const uint64_t eight = four & four >> 4;
    const uint64_t sixteen = eight & eight >> 8;
    return sixteen & two >> 16 & bits >> 18;
}

/* Reads 64 bytes at once; 0, with r unchanged, when the masks cannot settle them: they open more
   containers than limit allows, hold non-ASCII bytes, or a run of digits as long as LONG_DIGITS
   (the caller then walks them one at a time). */
static int
skim(struct reading *r, const unsigned char *block, Py_ssize_t limit)
{
    __m128i part[4];
    for (int k = 0; k < 4; k++) {
        part[k] = _mm_loadu_si128((const __m128i *)(block + 16 * k));
    }
    if (r->utf8_needed || high_bytes(part) != 0) {
        return 0;
    }
    uint64_t backslashes = where(part, '\\', 0);
    uint64_t escaped = (uint64_t)r->escaped;
    int escapes_next = 0;
    while (backslashes != 0) {
        const int at = __builtin_ctzll(backslashes);
        backslashes &= backslashes - 1;
        if (!(escaped >> at & 1)) {
            if (at == BLOCK - 1) {
                escapes_next = 1;
            }
            else {
                escaped |= (uint64_t)1 << (at + 1);
            }
        }
    }
    const uint64_t quotes = where(part, '"', 0) & ~escaped;
    const uint64_t strings = prefix_parity(quotes) ^ (r->in_string ? ~(uint64_t)0 : 0);
    const uint64_t opens = where(part, '{', 0x20) & ~strings; /* '[' | 0x20 is '{' */
    const uint64_t closes = where(part, '}', 0x20) & ~strings; /* ']' | 0x20 is '}' */
    const Py_ssize_t opened = __builtin_popcountll(opens);
    if (r->depth + opened > limit) {
        return 0;
    }
    const uint64_t digits = digits_in(part) & ~strings;
    const int leading = digits == ~(uint64_t)0 ? BLOCK : __builtin_ctzll(~digits);
    if (r->digits + leading >= LONG_DIGITS || (digits != 0 && long_runs(digits) != 0)) {
        return 0;
    }
    /* Most blocks hold neither escapes nor digits outside strings: they skip these masks. */
    uint64_t u = 0;
    if (escaped != 0 || r->after_u) {
        u = where(part, 'u', 0) & escaped;
        r->unusual |= (where(part, 'd', 0x20) & (u << 1 | (uint64_t)r->after_u)) != 0;
    }
    const uint64_t follows_digit = digits << 1 | (uint64_t)(r->digits > 0);
    if (follows_digit != 0) {
        r->unusual |= (where(part, 'e', 0x20) & ~strings & follows_digit) != 0;
    }
    const int trailing = digits >> (BLOCK - 1) ? __builtin_clzll(~digits) : 0;
    r->depth += opened - __builtin_popcountll(closes);
    r->in_string = (int)(strings >> (BLOCK - 1));
    r->escaped = escapes_next;
    r->after_u = (int)(u >> (BLOCK - 1));
    r->after_dot = block[BLOCK - 1] == '.' && !(strings >> (BLOCK - 1));
    if (trailing > 0) {
        r->fraction = block[BLOCK - 1 - trailing] == '.';
    }
    r->digits = trailing;
    return 1;
}
#endif

/* PLAIN, DEEPER when brackets outside strings open more than `limit` containers at once, or else
   UNUSUAL. */
static int
shape(const unsigned char *text, Py_ssize_t size, Py_ssize_t limit)
{
    struct reading r = {0};
    Py_ssize_t i = 0;
#if defined(__SSE2__)
    for (; size - i >= BLOCK; i += BLOCK) {
        if (!skim(&r, text + i, limit) && walk(&r, text, i, i + BLOCK, limit)) {
            return DEEPER;
        }
    }
#endif
    if (walk(&r, text, i, size, limit)) {
        return DEEPER;
    }
    return r.unusual || r.utf8_needed ? UNUSUAL : PLAIN;
}

static PyObject *
json_shape(PyObject *module, PyObject *args)
{
    Py_buffer view;
    Py_ssize_t limit;
    int found;

    (void)module;
    if (!PyArg_ParseTuple(args, "y*n:json_shape", &view, &limit)) {
        return NULL;
    }
    found = shape((const unsigned char *)view.buf, view.len, limit);
    PyBuffer_Release(&view);
    return PyLong_FromLong(found);
}

static PyMethodDef methods[] = {
    {"json_shape", json_shape, METH_VARARGS,
     "json_shape(json, limit, /)\n--\n\n"
     "0 (plain), 1 when the containers of JSON (any bytes-like object) nest deeper than limit\n"
     "(brackets inside strings do not count), or else 2 when the text is unusual: not UTF-8,\n"
     "or a number with an exponent, 19 integer digits or more, or a \\u escape of a surrogate."},
    {NULL, NULL, 0, NULL},
};

static struct PyModuleDef module = {
    PyModuleDef_HEAD_INIT,
    .m_name = "cds.fhir._nesting",
    .m_doc = "How deeply JSON nests, and whether msgspec's syntax check settles it, read in one pass.",
    .m_size = 0,
    .m_methods = methods,
};

PyMODINIT_FUNC
PyInit__nesting(void)
{
    return PyModuleDef_Init(&module);
}
