/* The explorer's compiled core: the BFS successor loop of checker/engines/explore.py over
 * native tables, with Python called only where the loop meets something new.
 *
 * A world key is (process serials..., bag of message serials, ghost, faults left, injections
 * left) exactly as in checker/model/semantics.py; the ghost is a number given by the bridge
 * (checker/engines/compiled.py), equal ghosts one number.  Everything the loop needs is a
 * memo here, filled on a miss by a call to the bridge, which answers from the same Python
 * objects the pure-Python explorer uses (Semantics, Symmetry, KeyCodec, PendingMemo):
 *
 *   outcomes(idx, s, ms, fl)   -> ((step id, new serial, sends, faults left, ghost-op id, noted), ...)
 *   noted(i, step)             a transition of a noted step (findings, --conform divergence)
 *   ghost_after(g, op)         -> ghost number
 *   tail(g, fl, inj)           -> the codec's tail number
 *   messages(first)            -> (((target, unhandled step, lose step, rank), ...), all ranks or None)
 *   plans(members)             -> None or (plan id, ...)        (symmetry)
 *   plan(p)                    -> (renames?, source position per target)
 *   rename_state(p, t, s), rename_message(p, ms), rename_ghost(p, g), ghost_rank(g), ghost_open(g)
 *   guard(key)                 -> checks left for the symmetry guard
 *   check(j, key)              -> True to stop (stop at the first violation)
 *
 * The order of every call is the order in which the pure-Python loop does the same work,
 * so serials, tails and representatives are numbered alike and the two explorers store the
 * same bytes in the same order (tests/unit/test_compiled_core.py compares them).
 */
#define PY_SSIZE_T_CLEAN
#include <Python.h>
#include <stdint.h>
#include <string.h>

/* ---------------------------------------------------------------- vectors */

typedef struct { int32_t *v; Py_ssize_t n, cap; } IVec;
typedef struct { int64_t *v; Py_ssize_t n, cap; } LVec;

static int iv_reserve(IVec *a, Py_ssize_t need) {
    if (need <= a->cap) return 0;
    Py_ssize_t cap = a->cap ? a->cap : 16;
    while (cap < need) cap *= 2;
    int32_t *v = PyMem_Realloc(a->v, (size_t)cap * sizeof(int32_t));
    if (!v) { PyErr_NoMemory(); return -1; }
    a->v = v; a->cap = cap; return 0;
}
static int iv_push(IVec *a, int32_t x) {
    if (a->n == a->cap && iv_reserve(a, a->n + 1) < 0) return -1;
    a->v[a->n++] = x; return 0;
}
/* a->v[i] = x, growing with ``fill`` */
static int iv_put(IVec *a, Py_ssize_t i, int32_t x, int32_t fill) {
    if (i >= a->n) {
        if (iv_reserve(a, i + 1) < 0) return -1;
        for (Py_ssize_t k = a->n; k <= i; k++) a->v[k] = fill;
        a->n = i + 1;
    }
    a->v[i] = x; return 0;
}
static inline int32_t iv_get(const IVec *a, Py_ssize_t i, int32_t dflt) {
    return (i >= 0 && i < a->n) ? a->v[i] : dflt;
}
static int lv_push(LVec *a, int64_t x) {
    if (a->n == a->cap) {
        Py_ssize_t cap = a->cap ? a->cap * 2 : 16;
        int64_t *v = PyMem_Realloc(a->v, (size_t)cap * sizeof(int64_t));
        if (!v) { PyErr_NoMemory(); return -1; }
        a->v = v; a->cap = cap;
    }
    a->v[a->n++] = x; return 0;
}
static int lv_add(LVec *a, Py_ssize_t i, int64_t x) {
    while (a->n <= i) if (lv_push(a, 0) < 0) return -1;
    a->v[i] += x; return 0;
}

/* ---------------------------------------------------------------- hashing */

static inline uint64_t mix64(uint64_t x) {  /* splitmix64's finaliser */
    x ^= x >> 30; x *= 0xbf58476d1ce4e5b9ULL;
    x ^= x >> 27; x *= 0x94d049bb133111ebULL;
    x ^= x >> 31; return x;
}
static uint64_t hash_bytes(const uint8_t *p, size_t n) {
    uint64_t h = 0x9e3779b97f4a7c15ULL ^ (uint64_t)n;
    while (n >= 8) { uint64_t w; memcpy(&w, p, 8); h = mix64(h ^ w); p += 8; n -= 8; }
    uint64_t w = 0; memcpy(&w, p, n); h = mix64(h ^ w ^ ((uint64_t)n << 56));
    return h;
}

/* (a, b) -> value >= 0; an empty slot has value -1 */
typedef struct { uint64_t a, b; int64_t val; } PEnt;
typedef struct { PEnt *t; size_t cap, n; } PMap;

static int pm_init(PMap *m) {
    m->cap = 1024; m->n = 0;
    m->t = PyMem_Malloc(m->cap * sizeof(PEnt));
    if (!m->t) { PyErr_NoMemory(); return -1; }
    for (size_t i = 0; i < m->cap; i++) m->t[i].val = -1;
    return 0;
}
static inline size_t pm_slot(uint64_t a, uint64_t b, size_t mask) {
    return (size_t)(mix64(a * 0x9e3779b97f4a7c15ULL ^ mix64(b)) & mask);
}
static int64_t pm_get(const PMap *m, uint64_t a, uint64_t b) {
    size_t mask = m->cap - 1, i = pm_slot(a, b, mask);
    for (;;) {
        const PEnt *e = &m->t[i];
        if (e->val < 0) return -1;
        if (e->a == a && e->b == b) return e->val;
        i = (i + 1) & mask;
    }
}
static int pm_set(PMap *m, uint64_t a, uint64_t b, int64_t val) {
    if (2 * (m->n + 1) > m->cap) {
        PEnt *old = m->t; size_t ocap = m->cap;
        m->cap *= 2;
        m->t = PyMem_Malloc(m->cap * sizeof(PEnt));
        if (!m->t) { m->t = old; m->cap = ocap; PyErr_NoMemory(); return -1; }
        for (size_t i = 0; i < m->cap; i++) m->t[i].val = -1;
        size_t mask = m->cap - 1;
        for (size_t k = 0; k < ocap; k++) if (old[k].val >= 0) {
            size_t i = pm_slot(old[k].a, old[k].b, mask);
            while (m->t[i].val >= 0) i = (i + 1) & mask;
            m->t[i] = old[k];
        }
        PyMem_Free(old);
    }
    size_t mask = m->cap - 1, i = pm_slot(a, b, mask);
    while (m->t[i].val >= 0) {
        if (m->t[i].a == a && m->t[i].b == b) { m->t[i].val = val; return 0; }
        i = (i + 1) & mask;
    }
    m->t[i].a = a; m->t[i].b = b; m->t[i].val = val; m->n++;
    return 0;
}

/* A set of byte strings, each an entry number in order of insertion: the visited states
 * (entry number = state index) and the symmetric processes' serials (symmetry plans). */
typedef struct {
    uint8_t *arena; size_t used, acap;
    LVec off;                 /* entry k: arena[off[k] .. off[k+1]) */
    uint64_t *slots;          /* (entry + 1) << 32 | 32 bits of its hash; 0: empty */
    size_t cap, n;
} BSet;

static int bs_init(BSet *s) {
    memset(s, 0, sizeof *s);
    s->cap = 1024;
    s->slots = PyMem_Calloc(s->cap, sizeof(uint64_t));
    if (!s->slots || lv_push(&s->off, 0) < 0) { PyErr_NoMemory(); return -1; }
    return 0;
}
static void bs_free(BSet *s) { PyMem_Free(s->arena); PyMem_Free(s->off.v); PyMem_Free(s->slots); }
static inline const uint8_t *bs_key(const BSet *s, Py_ssize_t k, size_t *len) {
    *len = (size_t)(s->off.v[k + 1] - s->off.v[k]);
    return s->arena + s->off.v[k];
}
static Py_ssize_t bs_find(const BSet *s, const uint8_t *p, size_t n, uint64_t h) {
    size_t mask = s->cap - 1, i = (size_t)(h >> 20) & mask;
    uint32_t tag = (uint32_t)h;
    for (;;) {
        uint64_t sl = s->slots[i];
        if (!sl) return -1;
        if ((uint32_t)sl == tag) {
            Py_ssize_t k = (Py_ssize_t)(sl >> 32) - 1;
            size_t len; const uint8_t *q = bs_key(s, k, &len);
            if (len == n && memcmp(p, q, n) == 0) return k;
        }
        i = (i + 1) & mask;
    }
}
static Py_ssize_t bs_add(BSet *s, const uint8_t *p, size_t n, uint64_t h) {
    if (10 * (s->n + 1) > 7 * s->cap) {
        size_t ncap = s->cap * 2, mask = ncap - 1;
        uint64_t *ns = PyMem_Calloc(ncap, sizeof(uint64_t));
        if (!ns) { PyErr_NoMemory(); return -1; }
        for (size_t k = 0; k < s->cap; k++) if (s->slots[k]) {
            Py_ssize_t e = (Py_ssize_t)(s->slots[k] >> 32) - 1;
            size_t len; const uint8_t *q = bs_key(s, e, &len);
            uint64_t hh = hash_bytes(q, len);
            size_t i = (size_t)(hh >> 20) & mask;
            while (ns[i]) i = (i + 1) & mask;
            ns[i] = s->slots[k];
        }
        PyMem_Free(s->slots); s->slots = ns; s->cap = ncap;
    }
    if (s->used + n > s->acap) {
        size_t cap = s->acap ? s->acap : 4096;
        while (cap < s->used + n) cap *= 2;
        uint8_t *a = PyMem_Realloc(s->arena, cap);
        if (!a) { PyErr_NoMemory(); return -1; }
        s->arena = a; s->acap = cap;
    }
    memcpy(s->arena + s->used, p, n);
    s->used += n;
    Py_ssize_t k = (Py_ssize_t)s->n;
    if (lv_push(&s->off, (int64_t)s->used) < 0) return -1;
    size_t mask = s->cap - 1, i = (size_t)(h >> 20) & mask;
    while (s->slots[i]) i = (i + 1) & mask;
    s->slots[i] = ((uint64_t)(k + 1) << 32) | (uint32_t)h;
    s->n++;
    return k;
}

/* ---------------------------------------------------------------- keys */

typedef struct {
    int32_t *procs;
    int32_t *net; Py_ssize_t nnet, cap;
    int32_t g, fl, inj;
} KeyBuf;

static int kb_init(KeyBuf *k, int n) {
    memset(k, 0, sizeof *k);
    k->procs = PyMem_Calloc((size_t)(n ? n : 1), sizeof(int32_t));
    k->cap = 16;
    k->net = PyMem_Malloc((size_t)k->cap * sizeof(int32_t));
    if (!k->procs || !k->net) { PyErr_NoMemory(); return -1; }
    return 0;
}
static void kb_free(KeyBuf *k) { PyMem_Free(k->procs); PyMem_Free(k->net); }
static int kb_room(KeyBuf *k, Py_ssize_t need) {
    if (need <= k->cap) return 0;
    Py_ssize_t cap = k->cap;
    while (cap < need) cap *= 2;
    int32_t *v = PyMem_Realloc(k->net, (size_t)cap * sizeof(int32_t));
    if (!v) { PyErr_NoMemory(); return -1; }
    k->net = v; k->cap = cap; return 0;
}

/* one outcome of a memoised delivery or initiative */
typedef struct { int32_t step, a, fl, gops, sends_off, nsends; } Outcome;

enum { ST_CHUNK = 0, ST_DONE = 1, ST_STOPPED = 2, ST_DEPTH = 3, ST_STATES = 4 };

typedef struct {
    PyObject_HEAD
    int n;                    /* processes */
    int loss, record, symmetry;
    int32_t max_depth;        /* -1: none */
    Py_ssize_t max_states;    /* 0: none */
    PyObject *bridge;         /* the Python side (callbacks) */
    PyObject *ghosts;         /* list: ghost number -> ghost value */
    PyObject *cb_outcomes, *cb_ghost_after, *cb_tail, *cb_messages, *cb_plans, *cb_plan,
             *cb_rename_state, *cb_rename_message, *cb_rename_ghost, *cb_ghost_rank,
             *cb_ghost_open, *cb_guard, *cb_check, *cb_noted;
    int32_t *initiators; int ninit;
    IVec inj_step, inj_off, inj_len, inj_sends;   /* the adversary's injections */
    /* messages: serial -> target (-1 adversary), unhandled step, lose step, order rank */
    IVec m_dst, m_ign, m_lose;
    LVec m_rank;                                  /* serial -> its place in the bag's order (gapped) */
    /* outcomes: (idx, s, ms, fl) -> list id; list id -> range in ``outs`` */
    PMap memo, gmemo, tails;
    IVec ol_off, ol_len, sends;
    Outcome *outs; Py_ssize_t nouts, outcap;
    IVec tail_g, tail_fl, tail_inj;               /* tail number -> parts */
    IVec g_open, g_rank;                          /* ghost number -> any open / rank (-1) */
    /* symmetry */
    int32_t *members; int nmembers;               /* the symmetric processes' positions */
    BSet mset; IVec m_plans_off, m_plans_len, m_plans; /* members -> plan ids (len -1: none) */
    IVec p_ren, p_src;                             /* plan -> renames?; n source positions */
    IVec *p_maps; IVec *p_msgs; IVec *p_ghosts; Py_ssize_t nplans, pcap;
    int32_t guard_left;
    /* the search */
    BSet seen;                                     /* packed states; entry = state index */
    IVec parent, via, levels;                      /* the BFS tree; level starts */
    IVec step_no, step_order;                      /* step id -> number in step_table (0: none) */
    IVec step_noted;                               /* step id -> 1: each transition told (findings, --conform) */
    int32_t next_step_no;
    LVec fired;                                    /* step id -> transitions taken */
    IVec back_src, back_dst;
    Py_ssize_t i;                                  /* the next state to expand */
    int32_t d; Py_ssize_t next_level;
    int64_t transitions;
    /* the explorer's PendingMemo, walked here: its root (a new reference; NULL: none) */
    PyObject *memo_root, *cb_memo_root, *cb_action_flags, *action_no;
    PyObject *tests;                               /* the pending tests, each alone (see memo_tests) */
    int64_t *test_hits; Py_ssize_t ntest_hits;     /* per test: hits of its own memo, not yet told */
    IVec *aflags; Py_ssize_t nactions;             /* action -> per message serial: carries it */
    int64_t memo_hits;                             /* walks that ended at an empty leaf, not yet told */
    /* scratch */
    KeyBuf cur, succ, cand, best;
    uint8_t *pbuf; size_t pcap_bytes;
} Core;

/* ---------------------------------------------------------------- bridge calls */

static PyObject *call(PyObject *fn, const char *fmt, ...) {
    va_list va; va_start(va, fmt);
    PyObject *args = Py_VaBuildValue(fmt, va);
    va_end(va);
    if (!args) return NULL;
    if (!PyTuple_Check(args)) { PyObject *t = PyTuple_Pack(1, args); Py_DECREF(args); if (!t) return NULL; args = t; }
    PyObject *r = PyObject_Call(fn, args, NULL);
    Py_DECREF(args);
    return r;
}
static int as_i32(PyObject *o, int32_t *out) {
    long v = PyLong_AsLong(o);
    if (v == -1 && PyErr_Occurred()) return -1;
    if (v < INT32_MIN || v > INT32_MAX) { PyErr_SetString(PyExc_OverflowError, "compiled core: a number beyond 32 bits"); return -1; }
    *out = (int32_t)v; return 0;
}
static int call_int(PyObject *fn, int32_t *out, const char *fmt, ...) {
    va_list va; va_start(va, fmt);
    PyObject *args = Py_VaBuildValue(fmt, va);
    va_end(va);
    if (!args) return -1;
    PyObject *r = PyObject_Call(fn, args, NULL);
    Py_DECREF(args);
    if (!r) return -1;
    int rc = as_i32(r, out);
    Py_DECREF(r);
    return rc;
}

/* learn every message serial below ``upto`` (in serial order); upto < 0: every one known.
 * The bridge gives ((target, unhandled step, lose step, rank), ...) for the new serials and,
 * when it had to space the ranks out again, every serial's rank (else None). */
static int learn_messages(Core *c, int32_t upto) {
    if (upto >= 0 && upto <= c->m_dst.n) return 0;
    PyObject *r = call(c->cb_messages, "(n)", c->m_dst.n);
    if (!r) return -1;
    PyObject *entries, *ranks;
    if (!PyArg_ParseTuple(r, "OO", &entries, &ranks)) { Py_DECREF(r); return -1; }
    PyObject *seq = PySequence_Fast(entries, "messages() must give a sequence");
    if (!seq) { Py_DECREF(r); return -1; }
    Py_ssize_t k = PySequence_Fast_GET_SIZE(seq);
    for (Py_ssize_t j = 0; j < k; j++) {
        int32_t dst, ign, lose; long long rank;
        if (!PyArg_ParseTuple(PySequence_Fast_GET_ITEM(seq, j), "iiiL", &dst, &ign, &lose, &rank) ||
            iv_push(&c->m_dst, dst) < 0 || iv_push(&c->m_ign, ign) < 0 || iv_push(&c->m_lose, lose) < 0 ||
            lv_push(&c->m_rank, rank) < 0) { Py_DECREF(seq); Py_DECREF(r); return -1; }
    }
    Py_DECREF(seq);
    if (ranks != Py_None) {
        PyObject *rs = PySequence_Fast(ranks, "ranks must be a sequence");
        if (!rs) { Py_DECREF(r); return -1; }
        if (PySequence_Fast_GET_SIZE(rs) != c->m_rank.n) { Py_DECREF(rs); Py_DECREF(r); PyErr_SetString(PyExc_RuntimeError, "compiled core: ranks of the wrong length"); return -1; }
        for (Py_ssize_t q = 0; q < c->m_rank.n; q++) {
            long long v = PyLong_AsLongLong(PySequence_Fast_GET_ITEM(rs, q));
            if (v == -1 && PyErr_Occurred()) { Py_DECREF(rs); Py_DECREF(r); return -1; }
            c->m_rank.v[q] = v;
        }
        Py_DECREF(rs);
    }
    Py_DECREF(r);
    if (upto >= 0 && upto > c->m_dst.n) { PyErr_SetString(PyExc_RuntimeError, "compiled core: a message serial the bridge does not know"); return -1; }
    return 0;
}

static int ghost_open(Core *c, int32_t g, int32_t *out) {
    int32_t v = iv_get(&c->g_open, g, -1);
    if (v < 0) {
        if (call_int(c->cb_ghost_open, &v, "(i)", g) < 0 || iv_put(&c->g_open, g, v, -1) < 0) return -1;
    }
    *out = v; return 0;
}

/* the memoised outcomes of (idx, s, ms, fl); ms = -1: the initiatives */
static int outcomes(Core *c, int idx, int32_t s, int32_t ms, int32_t fl, Py_ssize_t *off, Py_ssize_t *len) {
    uint64_t a = ((uint64_t)(uint32_t)idx << 32) | (uint32_t)fl, b = ((uint64_t)(uint32_t)s << 32) | (uint32_t)ms;
    int64_t id = pm_get(&c->memo, a, b);
    if (id < 0) {
        PyObject *r = call(c->cb_outcomes, "(iiii)", idx, s, ms, fl);
        if (!r) return -1;
        PyObject *seq = PySequence_Fast(r, "outcomes() must give a sequence");
        Py_DECREF(r);
        if (!seq) return -1;
        Py_ssize_t k = PySequence_Fast_GET_SIZE(seq);
        id = c->ol_off.n;
        if (iv_push(&c->ol_off, (int32_t)c->nouts) < 0 || iv_push(&c->ol_len, (int32_t)k) < 0) { Py_DECREF(seq); return -1; }
        int32_t maxser = -1;
        for (Py_ssize_t j = 0; j < k; j++) {
            PyObject *sends;
            Outcome o;
            int noted;
            if (!PyArg_ParseTuple(PySequence_Fast_GET_ITEM(seq, j), "iiOiip", &o.step, &o.a, &sends, &o.fl, &o.gops, &noted) ||
                (noted && iv_put(&c->step_noted, o.step, 1, 0) < 0)) { Py_DECREF(seq); return -1; }
            PyObject *sf = PySequence_Fast(sends, "sends must be a sequence");
            if (!sf) { Py_DECREF(seq); return -1; }
            o.sends_off = (int32_t)c->sends.n;
            o.nsends = (int32_t)PySequence_Fast_GET_SIZE(sf);
            for (Py_ssize_t q = 0; q < o.nsends; q++) {
                int32_t m;
                if (as_i32(PySequence_Fast_GET_ITEM(sf, q), &m) < 0 || iv_push(&c->sends, m) < 0) { Py_DECREF(sf); Py_DECREF(seq); return -1; }
                if (m > maxser) maxser = m;
            }
            Py_DECREF(sf);
            if (c->nouts == c->outcap) {
                Py_ssize_t cap = c->outcap ? c->outcap * 2 : 256;
                Outcome *v = PyMem_Realloc(c->outs, (size_t)cap * sizeof(Outcome));
                if (!v) { Py_DECREF(seq); PyErr_NoMemory(); return -1; }
                c->outs = v; c->outcap = cap;
            }
            c->outs[c->nouts++] = o;
        }
        Py_DECREF(seq);
        if (learn_messages(c, maxser + 1) < 0) return -1;
        if (pm_set(&c->memo, a, b, id) < 0) return -1;
    }
    *off = c->ol_off.v[id]; *len = c->ol_len.v[id];
    return 0;
}

static int ghost_after(Core *c, int32_t g, int32_t op, int32_t *out) {
    int64_t v = pm_get(&c->gmemo, (uint64_t)(uint32_t)g, (uint64_t)(uint32_t)op);
    if (v < 0) {
        int32_t r;
        if (call_int(c->cb_ghost_after, &r, "(ii)", g, op) < 0 || pm_set(&c->gmemo, (uint64_t)(uint32_t)g, (uint64_t)(uint32_t)op, r) < 0) return -1;
        v = r;
    }
    *out = (int32_t)v; return 0;
}

/* ---------------------------------------------------------------- packing (KeyCodec's bytes) */

static int tail_of(Core *c, const KeyBuf *k, int32_t *out) {
    uint64_t a = (uint64_t)(uint32_t)k->g, b = ((uint64_t)(uint32_t)k->fl << 32) | (uint32_t)k->inj;
    int64_t v = pm_get(&c->tails, a, b);
    if (v < 0) {
        int32_t t;
        if (call_int(c->cb_tail, &t, "(iii)", k->g, k->fl, k->inj) < 0 || pm_set(&c->tails, a, b, t) < 0) return -1;
        if (iv_put(&c->tail_g, t, k->g, -1) < 0 || iv_put(&c->tail_fl, t, k->fl, -1) < 0 || iv_put(&c->tail_inj, t, k->inj, -1) < 0) return -1;
        v = t;
    }
    *out = (int32_t)v; return 0;
}

/* pack ``k`` into c->pbuf: (tail, procs..., net...) as little-endian u16, or as i64 and "w" */
static int pack(Core *c, const KeyBuf *k, size_t *len) {
    int32_t t;
    if (tail_of(c, k, &t) < 0) return -1;
    Py_ssize_t cnt = 1 + c->n + k->nnet;
    size_t need = (size_t)cnt * 8 + 1;
    if (need > c->pcap_bytes) {
        size_t cap = c->pcap_bytes ? c->pcap_bytes : 256;
        while (cap < need) cap *= 2;
        uint8_t *p = PyMem_Realloc(c->pbuf, cap);
        if (!p) { PyErr_NoMemory(); return -1; }
        c->pbuf = p; c->pcap_bytes = cap;
    }
    int narrow = (uint32_t)t <= 0xFFFF;
    for (int q = 0; narrow && q < c->n; q++) narrow = (uint32_t)k->procs[q] <= 0xFFFF;
    for (Py_ssize_t q = 0; narrow && q < k->nnet; q++) narrow = (uint32_t)k->net[q] <= 0xFFFF;
    uint8_t *p = c->pbuf;
    if (narrow) {
        p[0] = (uint8_t)t; p[1] = (uint8_t)(t >> 8); p += 2;
        for (int q = 0; q < c->n; q++) { uint32_t v = (uint32_t)k->procs[q]; p[0] = (uint8_t)v; p[1] = (uint8_t)(v >> 8); p += 2; }
        for (Py_ssize_t q = 0; q < k->nnet; q++) { uint32_t v = (uint32_t)k->net[q]; p[0] = (uint8_t)v; p[1] = (uint8_t)(v >> 8); p += 2; }
        *len = (size_t)cnt * 2;
        return 0;
    }
    int64_t v = t;
    for (int b = 0; b < 8; b++) p[b] = (uint8_t)((uint64_t)v >> (8 * b));
    p += 8;
    for (Py_ssize_t q = 0; q < c->n + k->nnet; q++) {
        v = q < c->n ? k->procs[q] : k->net[q - c->n];
        for (int b = 0; b < 8; b++) p[b] = (uint8_t)((uint64_t)v >> (8 * b));
        p += 8;
    }
    *p = 'w';
    *len = (size_t)cnt * 8 + 1;
    return 0;
}

static int unpack(Core *c, const uint8_t *p, size_t len, KeyBuf *k) {
    Py_ssize_t cnt; int wide = (int)(len & 1);
    cnt = wide ? (Py_ssize_t)(len / 8) : (Py_ssize_t)(len / 2);
    int64_t t;
    #define INT_AT(q) (wide ? (int64_t)( (uint64_t)p[8*(q)] | (uint64_t)p[8*(q)+1] << 8 | (uint64_t)p[8*(q)+2] << 16 | (uint64_t)p[8*(q)+3] << 24 \
                        | (uint64_t)p[8*(q)+4] << 32 | (uint64_t)p[8*(q)+5] << 40 | (uint64_t)p[8*(q)+6] << 48 | (uint64_t)p[8*(q)+7] << 56) \
                        : (int64_t)((uint32_t)p[2*(q)] | (uint32_t)p[2*(q)+1] << 8))
    t = INT_AT(0);
    for (int q = 0; q < c->n; q++) k->procs[q] = (int32_t)INT_AT(1 + q);
    k->nnet = cnt - 1 - c->n;
    if (kb_room(k, k->nnet) < 0) return -1;
    for (Py_ssize_t q = 0; q < k->nnet; q++) k->net[q] = (int32_t)INT_AT(1 + c->n + q);
    #undef INT_AT
    int32_t g = iv_get(&c->tail_g, (Py_ssize_t)t, -1);
    if (g < 0) { PyErr_SetString(PyExc_RuntimeError, "compiled core: a tail the core has not packed"); return -1; }
    k->g = g; k->fl = c->tail_fl.v[t]; k->inj = c->tail_inj.v[t];
    return 0;
}

/* ---------------------------------------------------------------- the key as Python */

/* a tuple of the ``n`` ints at ``v`` (a new reference) */
static PyObject *int_tuple(const int32_t *v, Py_ssize_t n) {
    PyObject *t = PyTuple_New(n);
    if (!t) return NULL;
    for (Py_ssize_t q = 0; q < n; q++) {
        PyObject *x = PyLong_FromLong(v[q]);
        if (!x) { Py_DECREF(t); return NULL; }
        PyTuple_SET_ITEM(t, q, x);
    }
    return t;
}

static PyObject *key_tuple(Core *c, const KeyBuf *k) {
    PyObject *t = PyTuple_New(c->n + 4);
    if (!t) return NULL;
    for (int q = 0; q < c->n; q++) {
        PyObject *v = PyLong_FromLong(k->procs[q]);
        if (!v) { Py_DECREF(t); return NULL; }
        PyTuple_SET_ITEM(t, q, v);
    }
    PyObject *net = int_tuple(k->net, k->nnet);
    if (!net) { Py_DECREF(t); return NULL; }
    PyTuple_SET_ITEM(t, c->n, net);
    PyObject *g = PyList_GetItem(c->ghosts, k->g);
    if (!g) { Py_DECREF(t); return NULL; }
    Py_INCREF(g);
    PyTuple_SET_ITEM(t, c->n + 1, g);
    PyObject *fl = PyLong_FromLong(k->fl), *inj = PyLong_FromLong(k->inj);
    if (!fl || !inj) { Py_XDECREF(fl); Py_XDECREF(inj); Py_DECREF(t); return NULL; }
    PyTuple_SET_ITEM(t, c->n + 2, fl);
    PyTuple_SET_ITEM(t, c->n + 3, inj);
    return t;
}

static int kb_copy(KeyBuf *dst, const KeyBuf *src, int n) {
    memcpy(dst->procs, src->procs, (size_t)n * sizeof(int32_t));
    if (kb_room(dst, src->nnet) < 0) return -1;
    memcpy(dst->net, src->net, (size_t)src->nnet * sizeof(int32_t));
    dst->nnet = src->nnet; dst->g = src->g; dst->fl = src->fl; dst->inj = src->inj;
    return 0;
}

/* insert ``m`` into the sorted bag of ``k`` (after equal ranks: insort) */
static int bag_put(Core *c, KeyBuf *k, int32_t m) {
    if (kb_room(k, k->nnet + 1) < 0) return -1;
    int64_t r = c->m_rank.v[m];
    Py_ssize_t lo = 0, hi = k->nnet;
    while (lo < hi) { Py_ssize_t mid = (lo + hi) / 2; if (r < c->m_rank.v[k->net[mid]]) hi = mid; else lo = mid + 1; }
    memmove(k->net + lo + 1, k->net + lo, (size_t)(k->nnet - lo) * sizeof(int32_t));
    k->net[lo] = m; k->nnet++;
    return 0;
}

/* ---------------------------------------------------------------- symmetry */

static int learn_plan(Core *c, int32_t p) {
    while (c->nplans <= p) {
        PyObject *r = call(c->cb_plan, "(n)", c->nplans);
        if (!r) return -1;
        PyObject *ren = NULL, *src = NULL;
        if (!PyArg_ParseTuple(r, "OO", &ren, &src)) { Py_DECREF(r); return -1; }
        int has = PyObject_IsTrue(ren);
        PyObject *sf = PySequence_Fast(src, "plan(): source positions");
        if (has < 0 || !sf || PySequence_Fast_GET_SIZE(sf) != c->n) { Py_XDECREF(sf); Py_DECREF(r); if (!PyErr_Occurred()) PyErr_SetString(PyExc_RuntimeError, "compiled core: bad plan"); return -1; }
        if (iv_push(&c->p_ren, has) < 0) { Py_DECREF(sf); Py_DECREF(r); return -1; }
        for (int q = 0; q < c->n; q++) {
            int32_t v;
            if (as_i32(PySequence_Fast_GET_ITEM(sf, q), &v) < 0 || iv_push(&c->p_src, v) < 0) { Py_DECREF(sf); Py_DECREF(r); return -1; }
        }
        Py_DECREF(sf); Py_DECREF(r);
        if (c->nplans == c->pcap) {
            Py_ssize_t cap = c->pcap ? c->pcap * 2 : 8;
            IVec *m = PyMem_Realloc(c->p_maps, (size_t)(cap * c->n) * sizeof(IVec));
            if (!m) { PyErr_NoMemory(); return -1; }
            c->p_maps = m;
            IVec *ms = PyMem_Realloc(c->p_msgs, (size_t)cap * sizeof(IVec));
            if (!ms) { PyErr_NoMemory(); return -1; }
            c->p_msgs = ms;
            IVec *gs = PyMem_Realloc(c->p_ghosts, (size_t)cap * sizeof(IVec));
            if (!gs) { PyErr_NoMemory(); return -1; }
            c->p_ghosts = gs;
            c->pcap = cap;
        }
        memset(&c->p_maps[c->nplans * c->n], 0, (size_t)c->n * sizeof(IVec));
        memset(&c->p_msgs[c->nplans], 0, sizeof(IVec));
        memset(&c->p_ghosts[c->nplans], 0, sizeof(IVec));
        c->nplans++;
    }
    return 0;
}

/* ``k`` renamed by plan ``p`` into ``out`` (the caller knows the plan renames) */
static int rename_key(Core *c, const KeyBuf *k, int32_t p, KeyBuf *out) {
    const int32_t *src = &c->p_src.v[p * c->n];
    for (int t = 0; t < c->n; t++) {
        IVec *map = &c->p_maps[p * c->n + t];
        int32_t s = k->procs[src[t]];
        int32_t r = iv_get(map, s, -1);
        if (r < 0) {
            if (call_int(c->cb_rename_state, &r, "(iii)", p, t, s) < 0 || iv_put(map, s, r, -1) < 0) return -1;
        }
        out->procs[t] = r;
    }
    out->nnet = 0;
    if (k->nnet) {
        IVec *mm = &c->p_msgs[p];
        if (kb_room(out, k->nnet) < 0) return -1;
        for (Py_ssize_t q = 0; q < k->nnet; q++) {
            int32_t s = k->net[q], r = iv_get(mm, s, -1);
            if (r < 0) {
                if (call_int(c->cb_rename_message, &r, "(ii)", p, s) < 0 || learn_messages(c, r + 1) < 0 || iv_put(mm, s, r, -1) < 0) return -1;
            }
            if (bag_put(c, out, r) < 0) return -1;
        }
    }
    int32_t open;
    if (ghost_open(c, k->g, &open) < 0) return -1;
    out->g = k->g;
    if (open) {
        IVec *gm = &c->p_ghosts[p];
        int32_t r = iv_get(gm, k->g, -1);
        if (r < 0) {
            if (call_int(c->cb_rename_ghost, &r, "(ii)", p, k->g) < 0 || iv_put(gm, k->g, r, -1) < 0) return -1;
        }
        out->g = r;
    }
    out->fl = k->fl; out->inj = k->inj;
    return 0;
}

static int ghost_rank(Core *c, int32_t g, int32_t *out) {
    int32_t v = iv_get(&c->g_rank, g, -1);
    if (v < 0) {
        if (call_int(c->cb_ghost_rank, &v, "(i)", g) < 0 || iv_put(&c->g_rank, g, v, -1) < 0) return -1;
    }
    *out = v; return 0;
}

/* Symmetry._less: process serials, then the network as a tuple, then the ghost's rank */
static int key_less(Core *c, const KeyBuf *a, const KeyBuf *b, int *out) {
    for (int q = 0; q < c->n; q++) if (a->procs[q] != b->procs[q]) { *out = a->procs[q] < b->procs[q]; return 0; }
    Py_ssize_t m = a->nnet < b->nnet ? a->nnet : b->nnet;
    for (Py_ssize_t q = 0; q < m; q++) if (a->net[q] != b->net[q]) { *out = a->net[q] < b->net[q]; return 0; }
    if (a->nnet != b->nnet) { *out = a->nnet < b->nnet; return 0; }
    int32_t ra, rb;
    if (ghost_rank(c, a->g, &ra) < 0 || ghost_rank(c, b->g, &rb) < 0) return -1;
    *out = ra < rb; return 0;
}

/* the representative of ``k`` (Symmetry.canonical_key): *same = 1 when it is ``k`` itself,
 * else it is in c->best */
static int canonical(Core *c, const KeyBuf *k, int *same) {
    size_t mlen = (size_t)c->nmembers * 4;
    uint8_t mb[4 * 64];
    if (c->nmembers > 64) { PyErr_SetString(PyExc_RuntimeError, "compiled core: more than 64 symmetric processes"); return -1; }
    for (int q = 0; q < c->nmembers; q++) memcpy(mb + 4 * q, &k->procs[c->members[q]], 4);
    uint64_t h = hash_bytes(mb, mlen);
    Py_ssize_t e = bs_find(&c->mset, mb, mlen, h);
    if (e < 0) {
        PyObject *mt = PyTuple_New(c->nmembers);
        if (!mt) return -1;
        for (int q = 0; q < c->nmembers; q++) {
            PyObject *v = PyLong_FromLong(k->procs[c->members[q]]);
            if (!v) { Py_DECREF(mt); return -1; }
            PyTuple_SET_ITEM(mt, q, v);
        }
        PyObject *r = call(c->cb_plans, "(O)", mt);
        Py_DECREF(mt);
        if (!r) return -1;
        int32_t off = (int32_t)c->m_plans.n, cnt = -1;
        if (r != Py_None) {
            PyObject *sf = PySequence_Fast(r, "plans() must give a sequence");
            if (!sf) { Py_DECREF(r); return -1; }
            cnt = (int32_t)PySequence_Fast_GET_SIZE(sf);
            for (int32_t q = 0; q < cnt; q++) {
                int32_t p;
                if (as_i32(PySequence_Fast_GET_ITEM(sf, q), &p) < 0 || iv_push(&c->m_plans, p) < 0 || learn_plan(c, p) < 0) { Py_DECREF(sf); Py_DECREF(r); return -1; }
            }
            Py_DECREF(sf);
        }
        Py_DECREF(r);
        e = bs_add(&c->mset, mb, mlen, h);
        if (e < 0 || iv_push(&c->m_plans_off, off) < 0 || iv_push(&c->m_plans_len, cnt) < 0) return -1;
    }
    int32_t cnt = c->m_plans_len.v[e], off = c->m_plans_off.v[e];
    if (cnt < 0) { *same = 1; return 0; }
    /* best = plans[0] applied; then each other plan's candidate if less */
    int best_same = 1;
    for (int32_t q = 0; q < cnt; q++) {
        int32_t p = c->m_plans.v[off + q];
        if (!c->p_ren.v[p]) {  /* the key itself */
            if (q == 0) { best_same = 1; continue; }
            int less;
            if (key_less(c, k, best_same ? k : &c->best, &less) < 0) return -1;
            if (less) best_same = 1;
            continue;
        }
        KeyBuf *into = q == 0 ? &c->best : &c->cand;
        if (rename_key(c, k, p, into) < 0) return -1;
        if (q == 0) { best_same = 0; continue; }
        int less;
        if (key_less(c, &c->cand, best_same ? k : &c->best, &less) < 0) return -1;
        if (less) {
            if (kb_copy(&c->best, &c->cand, c->n) < 0) return -1;
            best_same = 0;
        }
    }
    *same = best_same;
    return 0;
}


/* ---------------------------------------------------------------- the pending checks' memo */

/* the serials in flight whose message has Action ``name`` (action_serials) */
static PyObject *action_tuple(Core *c, const KeyBuf *k, PyObject *name) {
    PyObject *no = PyDict_GetItemWithError(c->action_no, name);
    Py_ssize_t a;
    if (!no) {
        if (PyErr_Occurred()) return NULL;
        a = c->nactions;
        IVec *v = PyMem_Realloc(c->aflags, (size_t)(a + 1) * sizeof(IVec));
        if (!v) { PyErr_NoMemory(); return NULL; }
        c->aflags = v; memset(&v[a], 0, sizeof(IVec)); c->nactions++;
        PyObject *o = PyLong_FromSsize_t(a);
        if (!o || PyDict_SetItem(c->action_no, name, o) < 0) { Py_XDECREF(o); return NULL; }
        Py_DECREF(o);
    } else {
        a = PyLong_AsSsize_t(no);
    }
    IVec *fl = &c->aflags[a];
    if (fl->n < c->m_dst.n) {
        PyObject *r = call(c->cb_action_flags, "(On)", name, fl->n);
        if (!r) return NULL;
        PyObject *sf = PySequence_Fast(r, "action_flags() must give a sequence");
        Py_DECREF(r);
        if (!sf) return NULL;
        for (Py_ssize_t q = 0; q < PySequence_Fast_GET_SIZE(sf); q++) {
            int t = PyObject_IsTrue(PySequence_Fast_GET_ITEM(sf, q));
            if (t < 0 || iv_push(fl, t) < 0) { Py_DECREF(sf); return NULL; }
        }
        Py_DECREF(sf);
    }
    Py_ssize_t cnt = 0;
    for (Py_ssize_t q = 0; q < k->nnet; q++) if (iv_get(fl, k->net[q], 0)) cnt++;
    PyObject *t = PyTuple_New(cnt);
    if (!t) return NULL;
    cnt = 0;
    for (Py_ssize_t q = 0; q < k->nnet; q++) if (iv_get(fl, k->net[q], 0)) {
        PyObject *v = PyLong_FromLong(k->net[q]);
        if (!v) { Py_DECREF(t); return NULL; }
        PyTuple_SET_ITEM(t, cnt++, v);
    }
    return t;
}

/* the value of a memo part in ``k`` (property_eval.part_value), a new reference */
static PyObject *part_value(Core *c, const KeyBuf *k, PyObject *part) {
    if (PyLong_CheckExact(part)) {
        long v = PyLong_AsLong(part);
        if (v >= 0 && v < c->n) return PyLong_FromLong(k->procs[v]);
        if (v == -2) return PyBool_FromLong(k->nnet == 0);              /* QUIET */
        PyObject *g = PyList_GetItem(c->ghosts, k->g);
        if (!g) return NULL;
        if (v == -3) { Py_INCREF(g); return g; }                         /* GHOST */
        if (v == -1) return int_tuple(k->net, k->nnet);                   /* NET */
        Py_ssize_t gi = -4 - v;                                           /* obligations open */
        if (gi < 0 || !PyTuple_Check(g) || gi >= PyTuple_GET_SIZE(g)) { PyErr_SetString(PyExc_RuntimeError, "compiled core: an unknown memo part"); return NULL; }
        int t = PyObject_IsTrue(PyTuple_GET_ITEM(g, gi));
        if (t < 0) return NULL;
        return PyBool_FromLong(t);
    }
    if (PyUnicode_CheckExact(part)) return action_tuple(c, k, part);
    if (PyTuple_CheckExact(part)) {
        Py_ssize_t m = PyTuple_GET_SIZE(part);
        PyObject *t = PyTuple_New(m);
        if (!t) return NULL;
        for (Py_ssize_t q = 0; q < m; q++) {
            long i = PyLong_AsLong(PyTuple_GET_ITEM(part, q));
            if (i < 0 || i >= c->n) { Py_DECREF(t); if (!PyErr_Occurred()) PyErr_SetString(PyExc_RuntimeError, "compiled core: a bad memo part"); return NULL; }
            PyObject *x = PyLong_FromLong(k->procs[i]);
            if (!x) { Py_DECREF(t); return NULL; }
            PyTuple_SET_ITEM(t, q, x);
        }
        return t;
    }
    PyErr_SetString(PyExc_RuntimeError, "compiled core: an unknown memo part");
    return NULL;
}

/* 1: the memo says no pending test fires on ``k``; 0: ask Python (a miss, or tests fire); -1: error */
static int memo_says_none(Core *c, const KeyBuf *k) {
    PyObject *node = c->memo_root;
    if (!node) return 0;
    while (PyList_CheckExact(node)) {
        Py_ssize_t len = PyList_GET_SIZE(node);
        if (len < 2) return 0;
        PyObject *value = part_value(c, k, PyList_GET_ITEM(node, 0));
        if (!value) return -1;
        PyObject *child;
        if (len == 3) {
            int eq = PyObject_RichCompareBool(PyList_GET_ITEM(node, 1), value, Py_EQ);
            Py_DECREF(value);
            if (eq < 0) return -1;
            if (!eq) return 0;
            child = PyList_GET_ITEM(node, 2);
        } else {
            child = PyDict_GetItemWithError(PyList_GET_ITEM(node, 1), value);
            Py_DECREF(value);
            if (!child) return PyErr_Occurred() ? -1 : 0;
        }
        node = child;
    }
    if (PyTuple_CheckExact(node) && PyTuple_GET_SIZE(node) == 0) { c->memo_hits++; return 1; }
    return 0;
}

/* Walk one check's own memo (a CheckMemo trie: [part, {value: node}], leaves bools):
 * 1 / 0 its result, 2 a miss, -1 an error */
static int check_memo(Core *c, const KeyBuf *k, PyObject *node) {
    while (PyList_CheckExact(node)) {
        if (PyList_GET_SIZE(node) != 2) return 2;
        PyObject *value = part_value(c, k, PyList_GET_ITEM(node, 0));
        if (!value) return -1;
        PyObject *child = PyDict_GetItemWithError(PyList_GET_ITEM(node, 1), value);
        Py_DECREF(value);
        if (!child) return PyErr_Occurred() ? -1 : 2;
        node = child;
    }
    if (node == Py_True) return 1;
    if (node == Py_False) return 0;
    return 2;
}

/* The pending tests judged one by one through their own memos (when the combined trie
 * has no path for ``k``): 1 none fires, 0 ask Python (a miss, or one fires), -1 error.
 * Each test is (at quiescence?, memo root or None, fires on, ghost index or -1) or None. */
static int memo_tests(Core *c, const KeyBuf *k) {
    if (!c->tests) return 0;
    Py_ssize_t m = PyTuple_GET_SIZE(c->tests);
    unsigned char walked[64] = {0};  /* the tests whose memo answered (counted as its hits) */
    for (Py_ssize_t q = 0; q < m; q++) {
        PyObject *t = PyTuple_GET_ITEM(c->tests, q);
        if (t == Py_None) continue;
        if (PyTuple_GET_ITEM(t, 0) == Py_True && k->nnet) continue;
        long gi = PyLong_AsLong(PyTuple_GET_ITEM(t, 3));
        if (gi >= 0) {
            PyObject *g = PyList_GetItem(c->ghosts, k->g);
            if (!g || !PyTuple_Check(g) || gi >= PyTuple_GET_SIZE(g)) { if (!PyErr_Occurred()) PyErr_SetString(PyExc_RuntimeError, "compiled core: a bad ghost"); return -1; }
            int open = PyObject_IsTrue(PyTuple_GET_ITEM(g, gi));
            if (open < 0) return -1;
            if (open) return 0;
            continue;
        }
        PyObject *root = PyTuple_GET_ITEM(t, 1);
        if (root == Py_None) return 0;
        int r = check_memo(c, k, root);
        if (r < 0) return -1;
        if (r == 2) return 0;
        if (r == (PyTuple_GET_ITEM(t, 2) == Py_True)) return 0;
        if (q < 64) walked[q] = 1;
    }
    for (Py_ssize_t q = 0; q < m && q < 64 && q < c->ntest_hits; q++) c->test_hits[q] += walked[q];
    return 1;
}

/* the hits not yet told: (pending memo's, (each test's memo's, ...)); resets them */
static PyObject *untold_hits(Core *c) {
    PyObject *per = PyTuple_New(c->ntest_hits);
    if (!per) return NULL;
    for (Py_ssize_t q = 0; q < c->ntest_hits; q++) {
        PyObject *v = PyLong_FromLongLong(c->test_hits[q]);
        if (!v) { Py_DECREF(per); return NULL; }
        PyTuple_SET_ITEM(per, q, v);
        c->test_hits[q] = 0;
    }
    PyObject *r = Py_BuildValue("(LN)", (long long)c->memo_hits, per);
    c->memo_hits = 0;
    return r;
}

static int refresh_memo(Core *c) {
    PyObject *r = PyObject_CallNoArgs(c->cb_memo_root);
    if (!r) return -1;
    PyObject *root, *tests;
    if (!PyArg_ParseTuple(r, "OO!", &root, &PyTuple_Type, &tests)) { Py_DECREF(r); return -1; }
    Py_XDECREF(c->memo_root);
    c->memo_root = NULL;
    if (root != Py_None) { Py_INCREF(root); c->memo_root = root; }
    Py_INCREF(tests);
    Py_XSETREF(c->tests, tests);
    Py_DECREF(r);
    Py_ssize_t m = PyTuple_GET_SIZE(tests);
    if (m > c->ntest_hits) {
        int64_t *v = PyMem_Realloc(c->test_hits, (size_t)m * sizeof(int64_t));
        if (!v) { PyErr_NoMemory(); return -1; }
        for (Py_ssize_t q = c->ntest_hits; q < m; q++) v[q] = 0;
        c->test_hits = v;
    }
    c->ntest_hits = m;
    return 0;
}

/* ---------------------------------------------------------------- the successor loop */

/* a successor of state c->i reached by ``step``: count it, store it if new, check it.
 * 0: go on; 1: stop (a violation, at the first); -1: error */
static int successor(Core *c, int32_t step, KeyBuf *w2) {
    if (lv_add(&c->fired, step, 1) < 0) return -1;
    c->transitions++;
    if (iv_get(&c->step_noted, step, 0)) {  /* a step with findings, or not a model step */
        PyObject *r = call(c->cb_noted, "(ni)", c->i, step);
        if (!r) return -1;
        Py_DECREF(r);
    }
    size_t len;
    if (pack(c, w2, &len) < 0) return -1;
    uint64_t h = hash_bytes(c->pbuf, len);
    Py_ssize_t found = bs_find(&c->seen, c->pbuf, len, h);
    if (found >= 0) {
        if (c->record && found < c->next_level && (iv_push(&c->back_src, (int32_t)c->i) < 0 || iv_push(&c->back_dst, (int32_t)found) < 0)) return -1;
        return 0;
    }
    KeyBuf *stored = w2;
    if (c->symmetry) {
        if (c->guard_left > 0) {
            PyObject *kt = key_tuple(c, w2);
            if (!kt) return -1;
            int rc = call_int(c->cb_guard, &c->guard_left, "(O)", kt);
            Py_DECREF(kt);
            if (rc < 0) return -1;
        }
        int same;
        if (canonical(c, w2, &same) < 0) return -1;
        if (!same) {
            if (pack(c, &c->best, &len) < 0) return -1;
            h = hash_bytes(c->pbuf, len);
            found = bs_find(&c->seen, c->pbuf, len, h);
            if (found >= 0) {
                if (c->record && found < c->next_level && (iv_push(&c->back_src, (int32_t)c->i) < 0 || iv_push(&c->back_dst, (int32_t)found) < 0)) return -1;
                return 0;
            }
            stored = &c->best;
        }
    }
    Py_ssize_t j = bs_add(&c->seen, c->pbuf, len, h);
    if (j < 0) return -1;
    if (j > INT32_MAX - 1) { PyErr_SetString(PyExc_OverflowError, "compiled core: more than 2^31 states"); return -1; }
    int32_t k = iv_get(&c->step_no, step, 0);
    if (k == 0) {
        k = c->next_step_no++;
        if (iv_put(&c->step_no, step, k, 0) < 0 || iv_push(&c->step_order, step) < 0) return -1;
    }
    if (iv_push(&c->parent, (int32_t)c->i) < 0 || iv_push(&c->via, k) < 0) return -1;
    int none = memo_says_none(c, stored);
    if (none == 0) none = memo_tests(c, stored);
    if (none != 0) return none < 0 ? -1 : 0;
    PyObject *kt = key_tuple(c, stored);
    if (!kt) return -1;
    PyObject *hits = untold_hits(c);
    if (!hits) { Py_DECREF(kt); return -1; }
    PyObject *r = call(c->cb_check, "(nON)", j, kt, hits);
    Py_DECREF(kt);
    if (!r) return -1;
    int stop = PyObject_IsTrue(r);
    Py_DECREF(r);
    if (stop < 0 || refresh_memo(c) < 0) return -1;
    return stop;
}

/* every successor of c->cur, in the order of Semantics.expand */
static int expand_cur(Core *c) {
    KeyBuf *k = &c->cur, *w = &c->succ;
    const int n = c->n;
    int rc;
    /* 1. deliveries: each distinct message in flight */
    for (Py_ssize_t h = 0; h < k->nnet; h++) {
        int32_t ms = k->net[h];
        if (h > 0 && k->net[h - 1] == ms) continue;
        int32_t idx = c->m_dst.v[ms];
        if (idx < 0) {
            if (kb_copy(w, k, n) < 0) return -1;
            memmove(w->net + h, w->net + h + 1, (size_t)(w->nnet - h - 1) * sizeof(int32_t));
            w->nnet--;
            if ((rc = successor(c, c->m_ign.v[ms], w)) != 0) return rc;
            continue;
        }
        int32_t s = k->procs[idx];
        Py_ssize_t off, len;
        if (outcomes(c, idx, s, ms, k->fl, &off, &len) < 0) return -1;
        for (Py_ssize_t q = 0; q < len; q++) {
            Outcome o = c->outs[off + q];
            if (kb_copy(w, k, n) < 0) return -1;
            memmove(w->net + h, w->net + h + 1, (size_t)(w->nnet - h - 1) * sizeof(int32_t));
            w->nnet--;
            for (int32_t z = 0; z < o.nsends; z++) if (bag_put(c, w, c->sends.v[o.sends_off + z]) < 0) return -1;
            if (o.gops >= 0 && ghost_after(c, k->g, o.gops, &w->g) < 0) return -1;
            w->fl = o.fl;
            w->procs[idx] = o.a;
            if ((rc = successor(c, o.step, w)) != 0) return rc;
        }
    }
    /* 2. loss */
    if (c->loss && k->fl > 0) {
        for (Py_ssize_t h = 0; h < k->nnet; h++) {
            int32_t ms = k->net[h];
            if (h > 0 && k->net[h - 1] == ms) continue;
            if (kb_copy(w, k, n) < 0) return -1;
            memmove(w->net + h, w->net + h + 1, (size_t)(w->nnet - h - 1) * sizeof(int32_t));
            w->nnet--;
            w->fl = k->fl - 1;
            if ((rc = successor(c, c->m_lose.v[ms], w)) != 0) return rc;
        }
    }
    /* 3. initiatives */
    for (int q = 0; q < c->ninit; q++) {
        int idx = c->initiators[q];
        Py_ssize_t off, len;
        if (outcomes(c, idx, k->procs[idx], -1, k->fl, &off, &len) < 0) return -1;
        for (Py_ssize_t z = 0; z < len; z++) {
            Outcome o = c->outs[off + z];
            if (kb_copy(w, k, n) < 0) return -1;
            for (int32_t y = 0; y < o.nsends; y++) if (bag_put(c, w, c->sends.v[o.sends_off + y]) < 0) return -1;
            if (o.gops >= 0 && ghost_after(c, k->g, o.gops, &w->g) < 0) return -1;
            w->fl = o.fl;
            w->procs[idx] = o.a;
            if ((rc = successor(c, o.step, w)) != 0) return rc;
        }
    }
    /* 4. the adversary's injections */
    if (k->inj > 0) {
        for (Py_ssize_t q = 0; q < c->inj_step.n; q++) {
            if (kb_copy(w, k, n) < 0) return -1;
            for (int32_t y = 0; y < c->inj_len.v[q]; y++) if (bag_put(c, w, c->inj_sends.v[c->inj_off.v[q] + y]) < 0) return -1;
            w->inj = k->inj - 1;
            if ((rc = successor(c, c->inj_step.v[q], w)) != 0) return rc;
        }
    }
    return 0;
}

/* ---------------------------------------------------------------- Python type */

static void release_refs(Core *c);

static void Core_dealloc(Core *c) {
    release_refs(c);
    PyMem_Free(c->test_hits);
    for (Py_ssize_t a = 0; a < c->nactions; a++) PyMem_Free(c->aflags[a].v);
    PyMem_Free(c->aflags);
    PyMem_Free(c->initiators); PyMem_Free(c->members);
    IVec *vecs[] = {&c->inj_step, &c->inj_off, &c->inj_len, &c->inj_sends, &c->m_dst, &c->m_ign, &c->m_lose,
                    &c->ol_off, &c->ol_len, &c->sends, &c->tail_g, &c->tail_fl, &c->tail_inj, &c->g_open, &c->g_rank,
                    &c->m_plans_off, &c->m_plans_len, &c->m_plans, &c->p_ren, &c->p_src, &c->parent, &c->via, &c->levels,
                    &c->step_no, &c->step_order, &c->step_noted, &c->back_src, &c->back_dst};
    for (size_t q = 0; q < sizeof vecs / sizeof vecs[0]; q++) PyMem_Free(vecs[q]->v);
    for (Py_ssize_t p = 0; p < c->nplans; p++) {
        for (int t = 0; t < c->n; t++) PyMem_Free(c->p_maps[p * c->n + t].v);
        PyMem_Free(c->p_msgs[p].v); PyMem_Free(c->p_ghosts[p].v);
    }
    PyMem_Free(c->p_maps); PyMem_Free(c->p_msgs); PyMem_Free(c->p_ghosts);
    PyMem_Free(c->memo.t); PyMem_Free(c->gmemo.t); PyMem_Free(c->tails.t);
    PyMem_Free(c->outs); PyMem_Free(c->fired.v); PyMem_Free(c->m_rank.v);
    bs_free(&c->seen); bs_free(&c->mset);
    kb_free(&c->cur); kb_free(&c->succ); kb_free(&c->cand); kb_free(&c->best);
    PyMem_Free(c->pbuf);
    Py_TYPE(c)->tp_free((PyObject *)c);
}

/* drop every reference to Python objects (the bridge, its callbacks, the memos): the core
 * keeps its tables for reading (state, index, table, fired, quiescent) and runs no more.
 * Without this the core and its bridge would hold each other, a cycle the collector cannot
 * see (the core is not a GC type). */
static void release_refs(Core *c) {
    Py_CLEAR(c->bridge); Py_CLEAR(c->ghosts);
    Py_CLEAR(c->cb_outcomes); Py_CLEAR(c->cb_ghost_after); Py_CLEAR(c->cb_tail); Py_CLEAR(c->cb_messages);
    Py_CLEAR(c->cb_plans); Py_CLEAR(c->cb_plan); Py_CLEAR(c->cb_rename_state); Py_CLEAR(c->cb_rename_message);
    Py_CLEAR(c->cb_rename_ghost); Py_CLEAR(c->cb_ghost_rank); Py_CLEAR(c->cb_ghost_open); Py_CLEAR(c->cb_guard);
    Py_CLEAR(c->cb_check); Py_CLEAR(c->cb_noted); Py_CLEAR(c->cb_memo_root); Py_CLEAR(c->cb_action_flags);
    Py_CLEAR(c->memo_root); Py_CLEAR(c->action_no); Py_CLEAR(c->tests);
}

static PyObject *Core_release(Core *c, PyObject *unused) {
    release_refs(c);
    Py_RETURN_NONE;
}

static int ints_of(PyObject *seq, int32_t **out, int *count) {
    PyObject *sf = PySequence_Fast(seq, "a sequence of ints");
    if (!sf) return -1;
    Py_ssize_t k = PySequence_Fast_GET_SIZE(sf);
    *out = PyMem_Calloc((size_t)(k ? k : 1), sizeof(int32_t));
    if (!*out) { Py_DECREF(sf); PyErr_NoMemory(); return -1; }
    for (Py_ssize_t q = 0; q < k; q++) if (as_i32(PySequence_Fast_GET_ITEM(sf, q), &(*out)[q]) < 0) { Py_DECREF(sf); return -1; }
    *count = (int)k;
    Py_DECREF(sf);
    return 0;
}

static PyObject *getcb(PyObject *bridge, const char *name) { return PyObject_GetAttrString(bridge, name); }

/* Core(bridge, nprocs, loss, record, initiators, injections, members, guard_left, max_depth, max_states)
 * injections: ((step id, sends), ...); members: the symmetric positions (empty: no symmetry) */
static int Core_init(Core *c, PyObject *args, PyObject *kw) {
    PyObject *bridge, *initiators, *injections, *members;
    int n, loss, record, guard_left, max_depth;
    Py_ssize_t max_states;
    if (!PyArg_ParseTuple(args, "OippOOOiin", &bridge, &n, &loss, &record, &initiators, &injections, &members,
                          &guard_left, &max_depth, &max_states)) return -1;
    c->n = n; c->loss = loss; c->record = record; c->guard_left = guard_left;
    c->max_depth = max_depth; c->max_states = max_states;
    Py_INCREF(bridge); c->bridge = bridge;
    c->ghosts = PyObject_GetAttrString(bridge, "ghosts");
    if (!c->ghosts || !PyList_Check(c->ghosts)) { PyErr_SetString(PyExc_TypeError, "bridge.ghosts must be a list"); return -1; }
    if (!(c->cb_outcomes = getcb(bridge, "outcomes")) || !(c->cb_ghost_after = getcb(bridge, "ghost_after")) ||
        !(c->cb_tail = getcb(bridge, "tail")) || !(c->cb_messages = getcb(bridge, "messages")) ||
        !(c->cb_plans = getcb(bridge, "plans")) || !(c->cb_plan = getcb(bridge, "plan")) ||
        !(c->cb_rename_state = getcb(bridge, "rename_state")) || !(c->cb_rename_message = getcb(bridge, "rename_message")) ||
        !(c->cb_rename_ghost = getcb(bridge, "rename_ghost")) || !(c->cb_ghost_rank = getcb(bridge, "ghost_rank")) ||
        !(c->cb_ghost_open = getcb(bridge, "ghost_open")) || !(c->cb_guard = getcb(bridge, "guard")) ||
        !(c->cb_check = getcb(bridge, "check")) || !(c->cb_memo_root = getcb(bridge, "memo_root")) ||
        !(c->cb_noted = getcb(bridge, "noted")) ||
        !(c->cb_action_flags = getcb(bridge, "action_flags"))) return -1;
    if (!(c->action_no = PyDict_New()) || refresh_memo(c) < 0) return -1;
    if (ints_of(initiators, &c->initiators, &c->ninit) < 0 || ints_of(members, &c->members, &c->nmembers) < 0) return -1;
    c->symmetry = c->nmembers > 0;
    PyObject *sf = PySequence_Fast(injections, "injections");
    if (!sf) return -1;
    for (Py_ssize_t q = 0; q < PySequence_Fast_GET_SIZE(sf); q++) {
        int32_t step; PyObject *sends;
        if (!PyArg_ParseTuple(PySequence_Fast_GET_ITEM(sf, q), "iO", &step, &sends)) { Py_DECREF(sf); return -1; }
        int32_t *ss; int cnt;
        if (ints_of(sends, &ss, &cnt) < 0) { Py_DECREF(sf); return -1; }
        int bad = iv_push(&c->inj_step, step) < 0 || iv_push(&c->inj_off, (int32_t)c->inj_sends.n) < 0 || iv_push(&c->inj_len, cnt) < 0;
        for (int y = 0; !bad && y < cnt; y++) bad = iv_push(&c->inj_sends, ss[y]) < 0;
        PyMem_Free(ss);
        if (bad) { Py_DECREF(sf); return -1; }
    }
    Py_DECREF(sf);
    if (pm_init(&c->memo) < 0 || pm_init(&c->gmemo) < 0 || pm_init(&c->tails) < 0) return -1;
    if (bs_init(&c->seen) < 0 || bs_init(&c->mset) < 0) return -1;
    if (kb_init(&c->cur, n) < 0 || kb_init(&c->succ, n) < 0 || kb_init(&c->cand, n) < 0 || kb_init(&c->best, n) < 0) return -1;
    c->next_step_no = 1;
    c->i = 0; c->d = 0; c->next_level = 1;
    if (iv_push(&c->levels, 0) < 0 || iv_push(&c->levels, 1) < 0) return -1;
    return 0;
}

static int key_from(Core *c, PyObject *key, KeyBuf *k) {
    /* (procs..., net, ghost number, fl, inj) */
    if (!PyTuple_Check(key) || PyTuple_GET_SIZE(key) != c->n + 4) { PyErr_SetString(PyExc_TypeError, "a key tuple"); return -1; }
    for (int q = 0; q < c->n; q++) if (as_i32(PyTuple_GET_ITEM(key, q), &k->procs[q]) < 0) return -1;
    int32_t *net; int cnt;
    if (ints_of(PyTuple_GET_ITEM(key, c->n), &net, &cnt) < 0) return -1;
    if (kb_room(k, cnt) < 0) { PyMem_Free(net); return -1; }
    memcpy(k->net, net, (size_t)cnt * sizeof(int32_t)); k->nnet = cnt;
    PyMem_Free(net);
    int32_t maxm = -1;
    for (Py_ssize_t q = 0; q < k->nnet; q++) if (k->net[q] > maxm) maxm = k->net[q];
    if (learn_messages(c, maxm + 1) < 0) return -1;
    if (as_i32(PyTuple_GET_ITEM(key, c->n + 1), &k->g) < 0 || as_i32(PyTuple_GET_ITEM(key, c->n + 2), &k->fl) < 0 ||
        as_i32(PyTuple_GET_ITEM(key, c->n + 3), &k->inj) < 0) return -1;
    return 0;
}

/* start(key): store the initial state (its ghost as a number); returns its packed bytes */
static PyObject *Core_start(Core *c, PyObject *key) {
    if (!c->bridge) { PyErr_SetString(PyExc_RuntimeError, "compiled core: released (its search is over)"); return NULL; }
    if (c->seen.n) { PyErr_SetString(PyExc_RuntimeError, "compiled core: started twice"); return NULL; }
    if (learn_messages(c, -1) < 0) return NULL;
    if (key_from(c, key, &c->cur) < 0) return NULL;
    size_t len;
    if (pack(c, &c->cur, &len) < 0) return NULL;
    if (bs_add(&c->seen, c->pbuf, len, hash_bytes(c->pbuf, len)) < 0) return NULL;
    if (iv_push(&c->parent, -1) < 0 || iv_push(&c->via, 0) < 0) return NULL;
    return PyBytes_FromStringAndSize((const char *)c->pbuf, (Py_ssize_t)len);
}

/* pack_key(key) -> its packed bytes, as the search packs it (for tests: KeyCodec's bytes) */
static PyObject *Core_pack_key(Core *c, PyObject *key) {
    KeyBuf *k = &c->cand;
    if (key_from(c, key, k) < 0) return NULL;
    size_t len;
    if (pack(c, k, &len) < 0) return NULL;
    return PyBytes_FromStringAndSize((const char *)c->pbuf, (Py_ssize_t)len);
}

/* unpack_key(packed) -> the key (its ghost as the value), as the search unpacks it */
static PyObject *Core_unpack_key(Core *c, PyObject *arg) {
    char *p; Py_ssize_t len;
    if (PyBytes_AsStringAndSize(arg, &p, &len) < 0) return NULL;
    if (unpack(c, (const uint8_t *)p, (size_t)len, &c->cand) < 0) return NULL;
    return key_tuple(c, &c->cand);
}

/* run(limit): expand states until state ``limit`` (exclusive) or the end; returns a status */
static PyObject *Core_run(Core *c, PyObject *arg) {
    if (!c->bridge) { PyErr_SetString(PyExc_RuntimeError, "compiled core: released (its search is over)"); return NULL; }
    Py_ssize_t limit = PyLong_AsSsize_t(arg);
    if (limit == -1 && PyErr_Occurred()) return NULL;
    while (c->i < (Py_ssize_t)c->seen.n) {
        if (c->i == c->next_level) {
            c->d++;
            c->next_level = (Py_ssize_t)c->seen.n;
            if (iv_push(&c->levels, (int32_t)c->next_level) < 0) return NULL;
        }
        if (c->max_depth >= 0 && c->d >= c->max_depth) return PyLong_FromLong(ST_DEPTH);
        size_t len; const uint8_t *p = bs_key(&c->seen, c->i, &len);
        /* the arena may move while expanding: copy the key out first */
        if (unpack(c, p, len, &c->cur) < 0) return NULL;
        int rc = expand_cur(c);
        if (rc < 0) return NULL;
        if (rc > 0) return PyLong_FromLong(ST_STOPPED);
        c->i++;
        if (c->max_states > 0 && (Py_ssize_t)c->seen.n >= c->max_states && c->i < (Py_ssize_t)c->seen.n) return PyLong_FromLong(ST_STATES);
        if (c->i >= limit) return PyLong_FromLong(c->i < (Py_ssize_t)c->seen.n ? ST_CHUNK : ST_DONE);
    }
    return PyLong_FromLong(ST_DONE);
}

static PyObject *ivec_bytes(const IVec *a, Py_ssize_t from) {
    if (from > a->n) from = a->n;
    return PyBytes_FromStringAndSize((const char *)(a->v + from), (a->n - from) * (Py_ssize_t)sizeof(int32_t));
}

/* state(i) -> its packed bytes */
static PyObject *Core_state(Core *c, PyObject *arg) {
    Py_ssize_t i = PyLong_AsSsize_t(arg);
    if (i == -1 && PyErr_Occurred()) return NULL;
    if (i < 0) i += (Py_ssize_t)c->seen.n;
    if (i < 0 || i >= (Py_ssize_t)c->seen.n) { PyErr_SetString(PyExc_IndexError, "state index out of range"); return NULL; }
    size_t len; const uint8_t *p = bs_key(&c->seen, i, &len);
    return PyBytes_FromStringAndSize((const char *)p, (Py_ssize_t)len);
}

/* tables(name, from) -> the int32 table's entries from ``from``, as bytes (array("i")) */
static PyObject *Core_table(Core *c, PyObject *args) {
    const char *name; Py_ssize_t from = 0;
    if (!PyArg_ParseTuple(args, "s|n", &name, &from)) return NULL;
    const IVec *a = !strcmp(name, "parent") ? &c->parent : !strcmp(name, "via") ? &c->via : !strcmp(name, "levels") ? &c->levels
                  : !strcmp(name, "step_order") ? &c->step_order : !strcmp(name, "back_src") ? &c->back_src
                  : !strcmp(name, "back_dst") ? &c->back_dst : NULL;
    if (!a) { PyErr_Format(PyExc_KeyError, "no table %s", name); return NULL; }
    return ivec_bytes(a, from);
}

/* fired() -> ((step id, count), ...) for every step taken */
static PyObject *Core_fired(Core *c, PyObject *unused) {
    PyObject *out = PyList_New(0);
    if (!out) return NULL;
    for (Py_ssize_t s = 0; s < c->fired.n; s++) if (c->fired.v[s]) {
        PyObject *t = Py_BuildValue("(nL)", s, (long long)c->fired.v[s]);
        if (!t || PyList_Append(out, t) < 0) { Py_XDECREF(t); Py_DECREF(out); return NULL; }
        Py_DECREF(t);
    }
    return out;
}

/* quiescent() -> the indices of the states with no message in flight, as int32 bytes */
static PyObject *Core_quiescent(Core *c, PyObject *unused) {
    IVec out = {0};
    size_t narrow = 2 * (size_t)(c->n + 1), wide = 8 * (size_t)(c->n + 1) + 1;
    for (Py_ssize_t i = 0; i < (Py_ssize_t)c->seen.n; i++) {
        size_t len = (size_t)(c->seen.off.v[i + 1] - c->seen.off.v[i]);
        if ((len == narrow || len == wide) && iv_push(&out, (int32_t)i) < 0) { PyMem_Free(out.v); return NULL; }
    }
    PyObject *r = ivec_bytes(&out, 0);
    PyMem_Free(out.v);
    return r;
}

static PyObject *Core_len(Core *c, void *unused) { return PyLong_FromSize_t(c->seen.n); }
static PyObject *Core_pos(Core *c, void *unused) { return PyLong_FromSsize_t(c->i); }
static PyObject *Core_transitions(Core *c, void *unused) { return PyLong_FromLongLong(c->transitions); }

static PyMethodDef Core_methods[] = {
    {"start", (PyCFunction)Core_start, METH_O, "start(key): store the initial state; its packed bytes"},
    {"run", (PyCFunction)Core_run, METH_O, "run(limit): expand states up to index limit; a status"},
    {"state", (PyCFunction)Core_state, METH_O, "state(i): the packed bytes of state i"},
    {"pack_key", (PyCFunction)Core_pack_key, METH_O, "pack_key(key): a key (ghost as its number) packed"},
    {"unpack_key", (PyCFunction)Core_unpack_key, METH_O, "unpack_key(packed): the key, its ghost as the value"},
    {"table", (PyCFunction)Core_table, METH_VARARGS, "table(name, from=0): an int32 table as bytes"},
    {"fired", (PyCFunction)Core_fired, METH_NOARGS, "fired(): (step id, transitions) of each step taken"},
    {"release", (PyCFunction)Core_release, METH_NOARGS, "release(): drop the bridge and every Python reference; no more runs"},
    {"quiescent", (PyCFunction)Core_quiescent, METH_NOARGS, "quiescent(): indices of the states with nothing in flight"},
    {NULL}
};
static PyGetSetDef Core_getset[] = {
    {"states", (getter)Core_len, NULL, "states stored", NULL},
    {"position", (getter)Core_pos, NULL, "the next state to expand", NULL},
    {"transitions", (getter)Core_transitions, NULL, "transitions taken", NULL},
    {NULL}
};

static PyTypeObject CoreType = {
    PyVarObject_HEAD_INIT(NULL, 0)
    .tp_name = "checker.engines._core.Core",
    .tp_basicsize = sizeof(Core),
    .tp_dealloc = (destructor)Core_dealloc,
    .tp_flags = Py_TPFLAGS_DEFAULT,
    .tp_doc = "The explorer's BFS over native tables (see checker/engines/compiled.py).",
    .tp_methods = Core_methods,
    .tp_getset = Core_getset,
    .tp_init = (initproc)Core_init,
    .tp_new = PyType_GenericNew,
};

static struct PyModuleDef coremodule = {PyModuleDef_HEAD_INIT, "_core", "The explorer's compiled core.", -1, NULL};

PyMODINIT_FUNC PyInit__core(void) {
    if (PyType_Ready(&CoreType) < 0) return NULL;
    PyObject *m = PyModule_Create(&coremodule);
    if (!m) return NULL;
    Py_INCREF(&CoreType);
    if (PyModule_AddObject(m, "Core", (PyObject *)&CoreType) < 0) { Py_DECREF(&CoreType); Py_DECREF(m); return NULL; }
    /* the bridge's interface this build implements (checker/engines/compiled.py: CORE_ABI) */
    PyModule_AddIntConstant(m, "ABI", 6);
    PyModule_AddIntConstant(m, "CHUNK", ST_CHUNK);
    PyModule_AddIntConstant(m, "DONE", ST_DONE);
    PyModule_AddIntConstant(m, "STOPPED", ST_STOPPED);
    PyModule_AddIntConstant(m, "DEPTH", ST_DEPTH);
    PyModule_AddIntConstant(m, "STATES", ST_STATES);
    return m;
}
