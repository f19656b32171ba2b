/* provkit._speedups: the canonical stream of a flat dict, written in C.
 *
 * flat_dict_stream(d) returns exactly the bytes that provkit.hashing's pure-Python
 * path writes for a dict whose keys are str and whose values are str, int (32-bit),
 * float, bool or None: the protocol-5, memo-free pickle of
 * ("\x00pk:dict", sorted(d.items())). For anything else it returns None and the
 * Python path runs. tests/test_hashing.py checks both paths byte for byte.
 */
#define PY_SSIZE_T_CLEAN
#include <Python.h>
#include <string.h>

#define FRAME_LIMIT 65536 /* the pickler splits frames past this: leave those to Python */

typedef struct {
    unsigned char *buf;
    Py_ssize_t len;
    Py_ssize_t cap;
} Out;

static int out_put(Out *o, const void *data, Py_ssize_t n) {
    if (o->len + n > o->cap) {
        return -1;
    }
    memcpy(o->buf + o->len, data, (size_t)n);
    o->len += n;
    return 0;
}

static int out_byte(Out *o, unsigned char c) { return out_put(o, &c, 1); }

/* 0 written, 1 not a supported value (fall back), -1 error */
static int put_str(Out *o, PyObject *s) {
    PyObject *encoded = PyUnicode_AsEncodedString(s, "utf-8", "surrogatepass");
    if (encoded == NULL) {
        return -1;
    }
    Py_ssize_t n = PyBytes_GET_SIZE(encoded);
    int rc;
    if (n < 256) {
        unsigned char head[2] = {0x8c, (unsigned char)n}; /* SHORT_BINUNICODE */
        rc = out_put(o, head, 2);
    } else if (n <= 0xffffffffLL) {
        unsigned char head[5] = {'X', (unsigned char)(n & 0xff), (unsigned char)((n >> 8) & 0xff),
                                 (unsigned char)((n >> 16) & 0xff), (unsigned char)((n >> 24) & 0xff)};
        rc = out_put(o, head, 5); /* BINUNICODE */
    } else {
        Py_DECREF(encoded);
        return 1;
    }
    if (rc == 0) {
        rc = out_put(o, PyBytes_AS_STRING(encoded), n);
    }
    Py_DECREF(encoded);
    return rc == 0 ? 0 : 1;
}

static int put_value(Out *o, PyObject *v) {
    if (v == Py_None) {
        return out_byte(o, 'N') == 0 ? 0 : 1;
    }
    if (v == Py_True) {
        return out_byte(o, 0x88) == 0 ? 0 : 1; /* NEWTRUE */
    }
    if (v == Py_False) {
        return out_byte(o, 0x89) == 0 ? 0 : 1; /* NEWFALSE */
    }
    if (PyUnicode_CheckExact(v)) {
        return put_str(o, v);
    }
    if (PyLong_CheckExact(v)) {
        int overflow = 0;
        long long x = PyLong_AsLongLongAndOverflow(v, &overflow);
        if (overflow != 0 || x > 0x7fffffffLL || x < -0x80000000LL) {
            return 1; /* LONG1 encodings: leave to Python */
        }
        if (x >= 0 && x < 0x100) {
            unsigned char b[2] = {'K', (unsigned char)x}; /* BININT1 */
            return out_put(o, b, 2) == 0 ? 0 : 1;
        }
        if (x >= 0 && x < 0x10000) {
            unsigned char b[3] = {'M', (unsigned char)(x & 0xff), (unsigned char)(x >> 8)}; /* BININT2 */
            return out_put(o, b, 3) == 0 ? 0 : 1;
        }
        unsigned long ux = (unsigned long)(long)x;
        unsigned char b[5] = {'J', (unsigned char)(ux & 0xff), (unsigned char)((ux >> 8) & 0xff),
                              (unsigned char)((ux >> 16) & 0xff), (unsigned char)((ux >> 24) & 0xff)};
        return out_put(o, b, 5) == 0 ? 0 : 1; /* BININT */
    }
    if (PyFloat_CheckExact(v)) {
        double d = PyFloat_AS_DOUBLE(v);
        unsigned char b[9];
        uint64_t bits;
        memcpy(&bits, &d, 8);
        b[0] = 'G'; /* BINFLOAT, big-endian IEEE 754 */
        for (int i = 0; i < 8; i++) {
            b[1 + i] = (unsigned char)((bits >> (56 - 8 * i)) & 0xff);
        }
        return out_put(o, b, 9) == 0 ? 0 : 1;
    }
    return 1;
}

static PyObject *flat_dict_stream(PyObject *self, PyObject *args) {
    PyObject *d, *tag;
    if (!PyArg_ParseTuple(args, "O!U", &PyDict_Type, &d, &tag)) {
        return NULL;
    }
    Py_ssize_t n = PyDict_GET_SIZE(d);
    PyObject *keys = PyDict_Keys(d);
    if (keys == NULL) {
        return NULL;
    }
    for (Py_ssize_t i = 0; i < n; i++) {
        if (!PyUnicode_CheckExact(PyList_GET_ITEM(keys, i))) {
            Py_DECREF(keys);
            Py_RETURN_NONE;
        }
    }
    if (PyList_Sort(keys) < 0) {
        Py_DECREF(keys);
        return NULL;
    }
    unsigned char stack_buf[4096];
    Out o = {stack_buf, 0, (Py_ssize_t)sizeof(stack_buf)};
    unsigned char *heap = NULL;
    if (n > 64) {
        heap = PyMem_Malloc(FRAME_LIMIT + 16);
        if (heap == NULL) {
            Py_DECREF(keys);
            return PyErr_NoMemory();
        }
        o.buf = heap;
        o.cap = FRAME_LIMIT + 16;
    }
    int rc = 0;
    unsigned char head[11] = {0x80, 5, 0x95, 0, 0, 0, 0, 0, 0, 0, 0}; /* PROTO 5, FRAME <len> */
    rc |= out_put(&o, head, 11);
    rc |= put_str(&o, tag) != 0;
    rc |= out_byte(&o, ']'); /* EMPTY_LIST */
    if (n == 1) {
        PyObject *k = PyList_GET_ITEM(keys, 0);
        rc |= put_str(&o, k) != 0;
        rc |= put_value(&o, PyDict_GetItem(d, k)) != 0;
        rc |= out_byte(&o, 0x86); /* TUPLE2 */
        rc |= out_byte(&o, 'a');  /* APPEND */
    } else if (n > 1) {
        for (Py_ssize_t start = 0; start < n && rc == 0; start += 1000) { /* pickle's batch size */
            rc |= out_byte(&o, '(');                                      /* MARK */
            Py_ssize_t stop = start + 1000 < n ? start + 1000 : n;
            for (Py_ssize_t i = start; i < stop && rc == 0; i++) {
                PyObject *k = PyList_GET_ITEM(keys, i);
                rc |= put_str(&o, k) != 0;
                rc |= put_value(&o, PyDict_GetItem(d, k)) != 0;
                rc |= out_byte(&o, 0x86);
            }
            rc |= out_byte(&o, 'e'); /* APPENDS */
        }
    }
    rc |= out_byte(&o, 0x86);
    rc |= out_byte(&o, '.'); /* STOP */
    Py_DECREF(keys);
    if (PyErr_Occurred()) {
        PyMem_Free(heap);
        return NULL;
    }
    Py_ssize_t frame = o.len - 11;
    if (rc != 0 || frame >= FRAME_LIMIT || frame < 4) {
        PyMem_Free(heap);
        Py_RETURN_NONE;
    }
    for (int i = 0; i < 8; i++) {
        o.buf[3 + i] = (unsigned char)(((unsigned long long)frame >> (8 * i)) & 0xff);
    }
    PyObject *result = PyBytes_FromStringAndSize((const char *)o.buf, o.len);
    PyMem_Free(heap);
    return result;
}

static PyMethodDef methods[] = {
    {"flat_dict_stream", flat_dict_stream, METH_VARARGS,
     "flat_dict_stream(d, tag) -> bytes or None: the canonical stream of a flat dict."},
    {NULL, NULL, 0, NULL},
};

static struct PyModuleDef module = {PyModuleDef_HEAD_INIT, "_speedups", NULL, -1, methods};

PyMODINIT_FUNC PyInit__speedups(void) { return PyModule_Create(&module); }
