/*
 * where.c: the --where predicate language (grammar in extract.h), the filter
 * step of the reference job (`filter(is_purchase('raw'))`), written as SQL so
 * that the same text works in `sluice sql`.
 *
 * A recursive-descent parser builds a small tree once; evaluation walks it
 * per row with SQL's three-valued logic (TRUE, FALSE, UNKNOWN). Recursion
 * depth is capped (WHERE_DEPTH_MAX) so a hostile expression cannot overflow
 * the stack, and the text is capped (WHERE_TEXT_MAX).
 */
#include <ctype.h>
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>

#include "base/mem.h"
#include "extract/extract.h"

#define WHERE_DEPTH_MAX 100
#define WHERE_TEXT_MAX 65536
#define WHERE_IN_MAX 10000

/* ---------------------------------------------------------------- MARK: tree */

enum node_kind {
    N_OR,
    N_AND,
    N_NOT,
    N_CMP,     /* a op b */
    N_IN,      /* a IN (list) */
    N_LIKE,    /* a LIKE pattern */
    N_ISNULL,  /* a IS NULL */
    N_BETWEEN, /* a BETWEEN lo AND hi */
    N_COL,     /* a column reference */
    N_LIT,     /* a literal */
};

enum cmp_op { OP_EQ, OP_NE, OP_LT, OP_GT, OP_LE, OP_GE };

/* A value during evaluation; kind is enum extract_kind. */
struct wval {
    int kind;
    bool b;
    int64_t i;
    double d;
    struct sl_slice s; /* borrowed: the row or the tree */
};

struct node {
    enum node_kind kind;
    enum cmp_op op;        /* N_CMP */
    bool negate;           /* N_IN, N_LIKE, N_ISNULL, N_BETWEEN: the NOT form */
    struct node *a, *b, *c; /* operands (owned) */
    struct node **list;    /* N_IN: owned array of literals */
    size_t nlist;
    char *name;            /* N_COL: owned */
    size_t name_len;
    struct wval lit;       /* N_LIT; strings point at `str` */
    char *str;             /* owned bytes of a string literal / LIKE pattern */
};

struct extract_where {
    struct node *root; /* owned */
};

static void node_free(struct node *n)
{
    if (!n)
        return;
    node_free(n->a);
    node_free(n->b);
    node_free(n->c);
    for (size_t i = 0; i < n->nlist; i++)
        node_free(n->list[i]);
    free(n->list);
    free(n->name);
    free(n->str);
    free(n);
}

void extract_where_free(struct extract_where *w)
{
    if (!w)
        return;
    node_free(w->root);
    free(w);
}

/* ---------------------------------------------------------------- MARK: lexer */

enum tok {
    T_END,
    T_IDENT,  /* bare or quoted column name, or a keyword (bare only) */
    T_STRING, /* 'text' */
    T_NUMBER,
    T_LPAREN,
    T_RPAREN,
    T_COMMA,
    T_OP,     /* comparison operator; op in tok_op */
    T_BAD,
};

struct parser {
    const char *text;
    size_t pos;          /* next byte */
    enum tok tok;        /* current token */
    size_t tok_pos;      /* where it starts */
    size_t tok_len;      /* its length in text */
    bool quoted;         /* T_IDENT written in quotes (never a keyword) */
    enum cmp_op tok_op;
    char *tok_str;       /* owned: decoded T_STRING / quoted T_IDENT */
    size_t tok_str_len;
    int depth;
    struct sl_error *err;
    bool failed;
};

static void fail(struct parser *ps, size_t pos, const char *what)
{
    if (ps->failed)
        return;
    ps->failed = true;
    sl_fail_at(ps->err, SL_EUSAGE, pos, "bad --where expression at column %zu: %s", pos + 1, what);
}

static void next(struct parser *ps)
{
    const char *t = ps->text;
    size_t p = ps->pos;
    free(ps->tok_str);
    ps->tok_str = NULL;
    ps->quoted = false;
    while (t[p] == ' ' || t[p] == '\t' || t[p] == '\n' || t[p] == '\r')
        p++;
    ps->tok_pos = p;
    char c = t[p];
    if (c == '\0') {
        ps->tok = T_END;
    } else if (c == '(' || c == ')' || c == ',') {
        ps->tok = c == '(' ? T_LPAREN : c == ')' ? T_RPAREN : T_COMMA;
        p++;
    } else if (c == '=' || c == '!' || c == '<' || c == '>') {
        ps->tok = T_OP;
        if (c == '=') {
            ps->tok_op = OP_EQ;
            p += t[p + 1] == '=' ? 2 : 1;
        } else if (c == '!') {
            if (t[p + 1] != '=') {
                ps->tok = T_BAD;
                fail(ps, p, "'!' must be followed by '='");
                return;
            }
            ps->tok_op = OP_NE;
            p += 2;
        } else if (c == '<') {
            if (t[p + 1] == '=') {
                ps->tok_op = OP_LE;
                p += 2;
            } else if (t[p + 1] == '>') {
                ps->tok_op = OP_NE;
                p += 2;
            } else {
                ps->tok_op = OP_LT;
                p++;
            }
        } else {
            ps->tok_op = t[p + 1] == '=' ? OP_GE : OP_GT;
            p += t[p + 1] == '=' ? 2 : 1;
        }
    } else if (c == '\'' || c == '"' || c == '`') {
        /* 'string' with '' for a quote; "ident" / `ident` with doubled quotes */
        size_t cap = strlen(t + p) + 1, n = 0;
        char *s = sl_xmalloc(cap);
        size_t q = p + 1;
        for (;;) {
            if (t[q] == '\0') {
                free(s);
                ps->tok = T_BAD;
                fail(ps, p, c == '\'' ? "unterminated string literal" : "unterminated quoted name");
                return;
            }
            if (t[q] == c) {
                if (t[q + 1] == c) {
                    s[n++] = c;
                    q += 2;
                    continue;
                }
                q++;
                break;
            }
            s[n++] = t[q++];
        }
        s[n] = '\0';
        ps->tok_str = s;
        ps->tok_str_len = n;
        ps->tok = c == '\'' ? T_STRING : T_IDENT;
        ps->quoted = c != '\'';
        if (ps->tok == T_IDENT && n == 0) {
            ps->tok = T_BAD;
            fail(ps, p, "empty quoted name");
            return;
        }
        p = q;
    } else if (isdigit((unsigned char)c) || ((c == '-' || c == '.') &&
                                             (isdigit((unsigned char)t[p + 1]) ||
                                              (t[p + 1] == '.' && isdigit((unsigned char)t[p + 2]))))) {
        size_t q = p;
        if (t[q] == '-')
            q++;
        while (isdigit((unsigned char)t[q]))
            q++;
        if (t[q] == '.') {
            q++;
            while (isdigit((unsigned char)t[q]))
                q++;
        }
        if (t[q] == 'e' || t[q] == 'E') {
            size_t e = q + 1;
            if (t[e] == '+' || t[e] == '-')
                e++;
            if (isdigit((unsigned char)t[e])) {
                while (isdigit((unsigned char)t[e]))
                    e++;
                q = e;
            }
        }
        if (isalpha((unsigned char)t[q]) || t[q] == '_') {
            ps->tok = T_BAD;
            fail(ps, p, "bad number");
            return;
        }
        ps->tok = T_NUMBER;
        p = q;
    } else if (isalpha((unsigned char)c) || c == '_') {
        while (isalnum((unsigned char)t[p]) || t[p] == '_')
            p++;
        ps->tok = T_IDENT;
    } else {
        char what[64];
        snprintf(what, sizeof what, "unexpected character '%c'", c);
        ps->tok = T_BAD;
        fail(ps, p, what);
        return;
    }
    ps->tok_len = p - ps->tok_pos;
    ps->pos = p;
}

/* Whether the current token is the bare keyword kw. */
static bool is_kw(const struct parser *ps, const char *kw)
{
    return ps->tok == T_IDENT && !ps->quoted && ps->tok_len == strlen(kw) &&
           strncasecmp(ps->text + ps->tok_pos, kw, ps->tok_len) == 0;
}

static bool is_reserved(const struct parser *ps)
{
    static const char *const kws[] = { "AND", "OR", "NOT", "IN", "LIKE", "IS", "BETWEEN", NULL };
    for (int i = 0; kws[i]; i++)
        if (is_kw(ps, kws[i]))
            return true;
    return false;
}

/* ---------------------------------------------------------------- MARK: parser */

static struct node *new_node(enum node_kind kind)
{
    struct node *n = sl_xcalloc(1, sizeof *n);
    n->kind = kind;
    return n;
}

static struct node *parse_or(struct parser *ps);

static struct node *parse_literal_tok(struct parser *ps)
{
    struct node *n = new_node(N_LIT);
    if (ps->tok == T_STRING) {
        n->str = ps->tok_str;
        ps->tok_str = NULL;
        n->lit.kind = EXTRACT_STRING;
        n->lit.s = sl_slice_make(n->str, ps->tok_str_len);
    } else if (ps->tok == T_NUMBER) {
        char buf[64];
        size_t len = ps->tok_len < sizeof buf - 1 ? ps->tok_len : sizeof buf - 1;
        memcpy(buf, ps->text + ps->tok_pos, len);
        buf[len] = '\0';
        bool integral = !strpbrk(buf, ".eE");
        char *end;
        if (integral) {
            errno = 0;
            long long v = strtoll(buf, &end, 10);
            if (errno == 0 && *end == '\0') {
                n->lit.kind = EXTRACT_INT;
                n->lit.i = v;
                n->lit.d = (double)v;
            } else {
                integral = false;
            }
        }
        if (!integral) {
            n->lit.kind = EXTRACT_DOUBLE;
            n->lit.d = strtod(buf, &end);
        }
    } else if (is_kw(ps, "TRUE") || is_kw(ps, "FALSE")) {
        n->lit.kind = EXTRACT_BOOL;
        n->lit.b = is_kw(ps, "TRUE");
    } else if (is_kw(ps, "NULL")) {
        n->lit.kind = EXTRACT_NULL;
    } else {
        free(n);
        return NULL;
    }
    next(ps);
    return n;
}

static struct node *parse_operand(struct parser *ps)
{
    if (ps->failed)
        return NULL;
    if (ps->tok == T_LPAREN) {
        if (++ps->depth > WHERE_DEPTH_MAX) {
            fail(ps, ps->tok_pos, "expression nested too deeply");
            return NULL;
        }
        next(ps);
        struct node *n = parse_or(ps);
        if (!n)
            return NULL;
        if (ps->tok != T_RPAREN) {
            fail(ps, ps->tok_pos, "expected ')'");
            node_free(n);
            return NULL;
        }
        ps->depth--;
        next(ps);
        return n;
    }
    struct node *lit = parse_literal_tok(ps);
    if (lit)
        return lit;
    if (ps->tok == T_IDENT && !is_reserved(ps)) {
        struct node *n = new_node(N_COL);
        if (ps->quoted) {
            n->name = ps->tok_str;
            n->name_len = ps->tok_str_len;
            ps->tok_str = NULL;
        } else {
            n->name = sl_xstrndup(ps->text + ps->tok_pos, ps->tok_len);
            n->name_len = ps->tok_len;
        }
        next(ps);
        return n;
    }
    if (ps->tok == T_END)
        fail(ps, ps->tok_pos, "unexpected end of expression (expected a column or a value)");
    else
        fail(ps, ps->tok_pos, "expected a column or a value");
    return NULL;
}

static struct node *parse_pred(struct parser *ps)
{
    struct node *a = parse_operand(ps);
    if (!a)
        return NULL;
    if (ps->tok == T_OP) {
        struct node *n = new_node(N_CMP);
        n->op = ps->tok_op;
        n->a = a;
        next(ps);
        n->b = parse_operand(ps);
        if (!n->b) {
            node_free(n);
            return NULL;
        }
        return n;
    }
    if (is_kw(ps, "IS")) {
        struct node *n = new_node(N_ISNULL);
        n->a = a;
        next(ps);
        if (is_kw(ps, "NOT")) {
            n->negate = true;
            next(ps);
        }
        if (!is_kw(ps, "NULL")) {
            fail(ps, ps->tok_pos, "expected NULL after IS [NOT]");
            node_free(n);
            return NULL;
        }
        next(ps);
        return n;
    }
    bool negate = false;
    size_t not_pos = ps->tok_pos;
    if (is_kw(ps, "NOT")) {
        negate = true;
        next(ps);
        if (!is_kw(ps, "IN") && !is_kw(ps, "LIKE") && !is_kw(ps, "BETWEEN")) {
            fail(ps, not_pos, "expected IN, LIKE or BETWEEN after NOT");
            node_free(a);
            return NULL;
        }
    }
    if (is_kw(ps, "IN")) {
        struct node *n = new_node(N_IN);
        n->a = a;
        n->negate = negate;
        next(ps);
        if (ps->tok != T_LPAREN) {
            fail(ps, ps->tok_pos, "expected '(' after IN");
            node_free(n);
            return NULL;
        }
        next(ps);
        size_t cap = 0;
        for (;;) {
            struct node *lit = ps->failed ? NULL : parse_literal_tok(ps);
            if (!lit) {
                fail(ps, ps->tok_pos, "expected a literal in the IN list");
                node_free(n);
                return NULL;
            }
            if (n->nlist == WHERE_IN_MAX) {
                node_free(lit);
                fail(ps, ps->tok_pos, "IN list too long");
                node_free(n);
                return NULL;
            }
            if (n->nlist == cap) {
                cap = cap ? cap * 2 : 8;
                n->list = sl_xrealloc(n->list, cap * sizeof *n->list);
            }
            n->list[n->nlist++] = lit;
            if (ps->tok == T_COMMA) {
                next(ps);
                continue;
            }
            if (ps->tok == T_RPAREN) {
                next(ps);
                break;
            }
            fail(ps, ps->tok_pos, "expected ',' or ')' in the IN list");
            node_free(n);
            return NULL;
        }
        return n;
    }
    if (is_kw(ps, "LIKE")) {
        struct node *n = new_node(N_LIKE);
        n->a = a;
        n->negate = negate;
        next(ps);
        if (ps->tok != T_STRING) {
            fail(ps, ps->tok_pos, "expected a 'pattern' after LIKE");
            node_free(n);
            return NULL;
        }
        n->str = ps->tok_str;
        n->name_len = ps->tok_str_len; /* pattern length */
        ps->tok_str = NULL;
        next(ps);
        return n;
    }
    if (is_kw(ps, "BETWEEN")) {
        struct node *n = new_node(N_BETWEEN);
        n->a = a;
        n->negate = negate;
        next(ps);
        n->b = parse_operand(ps);
        if (n->b && !is_kw(ps, "AND"))
            fail(ps, ps->tok_pos, "expected AND in BETWEEN");
        if (!n->b || ps->failed) {
            node_free(n);
            return NULL;
        }
        next(ps);
        n->c = parse_operand(ps);
        if (!n->c) {
            node_free(n);
            return NULL;
        }
        return n;
    }
    return a;
}

static struct node *parse_not(struct parser *ps)
{
    if (is_kw(ps, "NOT")) {
        if (++ps->depth > WHERE_DEPTH_MAX) {
            fail(ps, ps->tok_pos, "expression nested too deeply");
            return NULL;
        }
        next(ps);
        struct node *inner = parse_not(ps);
        ps->depth--;
        if (!inner)
            return NULL;
        struct node *n = new_node(N_NOT);
        n->a = inner;
        return n;
    }
    return parse_pred(ps);
}

static struct node *parse_and(struct parser *ps)
{
    struct node *l = parse_not(ps);
    while (l && is_kw(ps, "AND")) {
        next(ps);
        struct node *r = parse_not(ps);
        if (!r) {
            node_free(l);
            return NULL;
        }
        struct node *n = new_node(N_AND);
        n->a = l;
        n->b = r;
        l = n;
    }
    return l;
}

static struct node *parse_or(struct parser *ps)
{
    struct node *l = parse_and(ps);
    while (l && is_kw(ps, "OR")) {
        next(ps);
        struct node *r = parse_and(ps);
        if (!r) {
            node_free(l);
            return NULL;
        }
        struct node *n = new_node(N_OR);
        n->a = l;
        n->b = r;
        l = n;
    }
    return l;
}

/* Whether node n yields a truth value (a predicate, a column, TRUE/FALSE/NULL). */
static bool is_boolean(const struct node *n)
{
    if (n->kind == N_LIT)
        return n->lit.kind == EXTRACT_BOOL || n->lit.kind == EXTRACT_NULL;
    return true;
}

static bool check_tree(struct parser *ps, const struct node *n)
{
    if (!n)
        return true;
    switch (n->kind) {
    case N_OR:
    case N_AND:
        if (!is_boolean(n->a) || !is_boolean(n->b)) {
            fail(ps, 0, "AND/OR need conditions on both sides");
            return false;
        }
        return check_tree(ps, n->a) && check_tree(ps, n->b);
    case N_NOT:
        if (!is_boolean(n->a)) {
            fail(ps, 0, "NOT needs a condition");
            return false;
        }
        return check_tree(ps, n->a);
    default:
        return true;
    }
}

struct extract_where *extract_where_compile(const char *text, struct sl_error *err)
{
    if (strlen(text) > WHERE_TEXT_MAX) {
        sl_fail(err, SL_EUSAGE, "bad --where expression: longer than %d bytes", WHERE_TEXT_MAX);
        return NULL;
    }
    struct parser ps = { 0 };
    ps.text = text;
    ps.err = err;
    next(&ps);
    struct node *root = ps.failed ? NULL : parse_or(&ps);
    if (root && !ps.failed && ps.tok != T_END)
        fail(&ps, ps.tok_pos, ps.tok == T_RPAREN ? "unbalanced ')'" : "expected AND, OR or the end");
    if (root && !ps.failed && !is_boolean(root))
        fail(&ps, 0, "the expression is a value, not a condition");
    if (root && !ps.failed)
        check_tree(&ps, root);
    free(ps.tok_str);
    if (ps.failed || !root) {
        if (!ps.failed)
            fail(&ps, 0, "empty expression");
        node_free(root);
        return NULL;
    }
    struct extract_where *w = sl_xcalloc(1, sizeof *w);
    w->root = root;
    return w;
}

/* ---------------------------------------------------------------- MARK: evaluation */

enum { F = 0, T = 1, U = 2 }; /* three-valued logic */

static struct wval operand(const struct node *n, const struct extract_row *row);
static int truth(const struct node *n, const struct extract_row *row);

/* Parse s as a number for string/number comparisons. */
static bool str_number(struct sl_slice s, struct wval *out)
{
    char buf[64];
    if (s.len == 0 || s.len >= sizeof buf)
        return false;
    memcpy(buf, s.p, s.len);
    buf[s.len] = '\0';
    char *end;
    errno = 0;
    long long v = strtoll(buf, &end, 10);
    if (*end == '\0' && errno == 0) {
        out->kind = EXTRACT_INT;
        out->i = v;
        out->d = (double)v;
        return true;
    }
    double d = strtod(buf, &end);
    if (*end != '\0' || buf[0] == ' ')
        return false;
    out->kind = EXTRACT_DOUBLE;
    out->d = d;
    return true;
}

/* Compare a and b: sets *c to <0, 0, >0; returns false when unknown. */
static bool compare(struct wval a, struct wval b, int *c)
{
    if (a.kind == EXTRACT_NULL || b.kind == EXTRACT_NULL)
        return false;
    bool an = a.kind == EXTRACT_INT || a.kind == EXTRACT_DOUBLE;
    bool bn = b.kind == EXTRACT_INT || b.kind == EXTRACT_DOUBLE;
    if (an && b.kind == EXTRACT_STRING) {
        if (!str_number(b.s, &b))
            return false;
        bn = true;
    } else if (bn && a.kind == EXTRACT_STRING) {
        if (!str_number(a.s, &a))
            return false;
        an = true;
    }
    if (an && bn) {
        if (a.kind == EXTRACT_INT && b.kind == EXTRACT_INT) {
            *c = a.i < b.i ? -1 : a.i > b.i;
        } else {
            double x = a.kind == EXTRACT_INT ? (double)a.i : a.d;
            double y = b.kind == EXTRACT_INT ? (double)b.i : b.d;
            if (x != x || y != y)
                return false;
            *c = x < y ? -1 : x > y;
        }
        return true;
    }
    if (a.kind == EXTRACT_STRING && b.kind == EXTRACT_STRING) {
        size_t n = a.s.len < b.s.len ? a.s.len : b.s.len;
        int r = n ? memcmp(a.s.p, b.s.p, n) : 0;
        *c = r ? r : (a.s.len < b.s.len ? -1 : a.s.len > b.s.len);
        return true;
    }
    if (a.kind == EXTRACT_BOOL && b.kind == EXTRACT_BOOL) {
        *c = (int)a.b - (int)b.b;
        return true;
    }
    return false;
}

/* SQL LIKE: % any run, _ one UTF-8 character; iterative with one backtrack point. */
static bool like(const uint8_t *s, size_t n, const uint8_t *p, size_t m)
{
    size_t i = 0, j = 0, star_j = SIZE_MAX, star_i = 0;
    while (i < n) {
        if (j < m && p[j] == '_') {
            i++;
            while (i < n && (s[i] & 0xc0) == 0x80)
                i++;
            j++;
        } else if (j < m && p[j] == '%') {
            star_j = ++j;
            star_i = i;
        } else if (j < m && p[j] == s[i]) {
            i++;
            j++;
        } else if (star_j != SIZE_MAX) {
            j = star_j;
            i = ++star_i;
        } else {
            return false;
        }
    }
    while (j < m && p[j] == '%')
        j++;
    return j == m;
}

static struct wval operand(const struct node *n, const struct extract_row *row)
{
    struct wval v = { 0 };
    if (n->kind == N_LIT)
        return n->lit;
    if (n->kind == N_COL) {
        long i = extract_row_find(row, n->name, n->name_len);
        if (i < 0)
            return v;
        const struct extract_field *f = &row->f[i];
        v.kind = f->kind;
        v.b = f->b;
        v.i = f->i;
        v.d = f->d;
        v.s = f->s;
        return v;
    }
    int t = truth(n, row);
    if (t == U)
        return v;
    v.kind = EXTRACT_BOOL;
    v.b = t == T;
    return v;
}

static int not3(int t)
{
    return t == U ? U : !t;
}

static int truth(const struct node *n, const struct extract_row *row)
{
    switch (n->kind) {
    case N_OR: {
        int a = truth(n->a, row);
        if (a == T)
            return T;
        int b = truth(n->b, row);
        if (b == T)
            return T;
        return a == U || b == U ? U : F;
    }
    case N_AND: {
        int a = truth(n->a, row);
        if (a == F)
            return F;
        int b = truth(n->b, row);
        if (b == F)
            return F;
        return a == U || b == U ? U : T;
    }
    case N_NOT:
        return not3(truth(n->a, row));
    case N_CMP: {
        int c;
        if (!compare(operand(n->a, row), operand(n->b, row), &c))
            return U;
        switch (n->op) {
        case OP_EQ: return c == 0;
        case OP_NE: return c != 0;
        case OP_LT: return c < 0;
        case OP_GT: return c > 0;
        case OP_LE: return c <= 0;
        default: return c >= 0;
        }
    }
    case N_IN: {
        struct wval a = operand(n->a, row);
        int r = F;
        for (size_t i = 0; i < n->nlist && r != T; i++) {
            int c;
            if (!compare(a, n->list[i]->lit, &c))
                r = U;
            else if (c == 0)
                r = T;
        }
        return n->negate ? not3(r) : r;
    }
    case N_LIKE: {
        struct wval a = operand(n->a, row);
        if (a.kind != EXTRACT_STRING)
            return U;
        int r = like(a.s.p, a.s.len, (const uint8_t *)n->str, n->name_len);
        return n->negate ? !r : r;
    }
    case N_ISNULL: {
        bool null = operand(n->a, row).kind == EXTRACT_NULL;
        return null != n->negate;
    }
    case N_BETWEEN: {
        struct wval a = operand(n->a, row);
        int c1, c2;
        bool k1 = compare(a, operand(n->b, row), &c1);
        bool k2 = compare(a, operand(n->c, row), &c2);
        int lo = k1 ? c1 >= 0 : U, hi = k2 ? c2 <= 0 : U;
        int r = lo == F || hi == F ? F : (lo == U || hi == U ? U : T);
        return n->negate ? not3(r) : r;
    }
    case N_COL: {
        struct wval v = operand(n, row);
        if (v.kind == EXTRACT_BOOL)
            return v.b;
        return U; /* a non-boolean column used as a condition: unknown */
    }
    case N_LIT:
        return n->lit.kind == EXTRACT_BOOL ? n->lit.b : U;
    }
    return U;
}

bool extract_where_eval(const struct extract_where *w, const struct extract_row *row)
{
    return truth(w->root, row) == T;
}
