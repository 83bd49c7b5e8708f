/* How deeply valid JSON nests, read in one pass without building it.
 *
 * orjson has no nesting limit low enough for the recursive code downstream, and every exact
 * pure-Python scan cost about a sixth of a 1000-resource call. The text must already be known to be
 * valid JSON: then backslashes occur only in strings, and a quote is escaped exactly when the
 * backslash before it is not itself escaped. Where SSE2 is available (every x86-64), 64 bytes are
 * read at once as bit masks; elsewhere, and for the last bytes, one character at a time.
 */
#define PY_SSIZE_T_CLEAN
#include <Python.h>
#include <stdint.h>
#if defined(__SSE2__)
#include <emmintrin.h>
#endif

/* Where a left-to-right reading of the text stands. */
struct reading {
    Py_ssize_t depth;
    int in_string;
    int escaped; /* the previous character was a backslash that escapes this one */
};

/* Reads text[from:to] one character at a time; 1 as soon as the depth passes limit. */
static int
walk(struct reading *r, const unsigned char *text, Py_ssize_t from, Py_ssize_t to, Py_ssize_t limit)
{
    for (Py_ssize_t i = from; i < to; i++) {
        const unsigned char c = text[i];
        if (r->in_string) {
            if (r->escaped) {
                r->escaped = 0;
            }
            else if (c == '\\') {
                r->escaped = 1;
            }
            else if (c == '"') {
                r->in_string = 0;
            }
        }
        else if (c == '"') {
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

/* Bit k set where an odd number of bits 0..k are. */
static inline uint64_t
prefix_parity(uint64_t bits)
{
    for (int shift = 1; shift < BLOCK; shift *= 2) {
        bits ^= bits << shift;
    }
    return bits;
}

/* Reads 64 bytes at once; 0, with r unchanged, when they open more containers than limit allows
   (the caller then walks them one at a time to find exactly where). */
static int
skim(struct reading *r, const unsigned char *block, Py_ssize_t limit)
{
    __m128i part[4];
    for (int k = 0; k < 4; k++) {
        part[k] = _mm_loadu_si128((const __m128i *)(block + 16 * k));
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
    r->depth += opened - __builtin_popcountll(closes);
    r->in_string = (int)(strings >> (BLOCK - 1));
    r->escaped = escapes_next;
    return 1;
}
#endif

/* Whether brackets outside strings open more than `limit` containers at once. */
static int
nests_deeper(const unsigned char *text, Py_ssize_t size, Py_ssize_t limit)
{
    struct reading r = {0, 0, 0};
    Py_ssize_t i = 0;
#if defined(__SSE2__)
    for (; size - i >= BLOCK; i += BLOCK) {
        if (!skim(&r, text + i, limit) && walk(&r, text, i, i + BLOCK, limit)) {
            return 1;
        }
    }
#endif
    return walk(&r, text, i, size, limit);
}

static PyObject *
nests_deeper_than(PyObject *module, PyObject *args)
{
    Py_buffer view;
    Py_ssize_t limit;
    int deeper;

    (void)module;
    if (!PyArg_ParseTuple(args, "y*n:nests_deeper_than", &view, &limit)) {
        return NULL;
    }
    deeper = nests_deeper((const unsigned char *)view.buf, view.len, limit);
    PyBuffer_Release(&view);
    return PyBool_FromLong(deeper);
}

static PyMethodDef methods[] = {
    {"nests_deeper_than", nests_deeper_than, METH_VARARGS,
     "nests_deeper_than(valid_json, limit, /)\n--\n\n"
     "Whether the containers of valid JSON (any bytes-like object) nest deeper than limit; brackets\n"
     "inside strings do not count."},
    {NULL, NULL, 0, NULL},
};

static struct PyModuleDef module = {
    PyModuleDef_HEAD_INIT,
    .m_name = "cds.fhir._nesting",
    .m_doc = "How deeply valid JSON nests, read in one pass without building it.",
    .m_size = 0,
    .m_methods = methods,
};

PyMODINIT_FUNC
PyInit__nesting(void)
{
    return PyModuleDef_Init(&module);
}
