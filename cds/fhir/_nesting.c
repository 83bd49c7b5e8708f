/* How deeply valid JSON nests, read in one pass without building it.
 *
 * orjson has no nesting limit low enough for the recursive code downstream, and every exact
 * pure-Python scan costs a sixth of a 1000-resource call; this loop costs a small part of that.
 * The text must already be known to be valid JSON: then a quote preceded by an odd run of
 * backslashes is inside a string, and any other quote opens or closes one.
 */
#define PY_SSIZE_T_CLEAN
#include <Python.h>
#include <string.h>

/* Whether brackets outside strings open more than `limit` containers at once. */
static int
nests_deeper(const unsigned char *text, Py_ssize_t size, Py_ssize_t limit)
{
    const unsigned char *at = text;
    const unsigned char *const end = text + size;
    Py_ssize_t depth = 0;

    while (at < end) {
        const unsigned char c = *at++;
        if (c == '"') {
            for (;;) {
                const unsigned char *quote = memchr(at, '"', (size_t)(end - at));
                if (quote == NULL) {
                    return 0;
                }
                const unsigned char *run = quote;
                while (run > at && run[-1] == '\\') {
                    run--;
                }
                at = quote + 1;
                if ((quote - run) % 2 == 0) {
                    break;
                }
            }
        }
        else if (c == '[' || c == '{') {
            if (++depth > limit) {
                return 1;
            }
        }
        else if (c == ']' || c == '}') {
            depth--;
        }
    }
    return 0;
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
