/*
 * sql_agg.c: aggregate push-down. SQLite runs GROUP BY row at a time through
 * a sorter, which over ten million rows is ~20-50x DuckDB (bench/RESULTS.md);
 * a virtual table cannot be handed the aggregation. So the commonest shape
 * of analytic query is recognised here and run below SQLite:
 *
 *   SELECT item, ... FROM table [[AS] alias]
 *     [WHERE pred AND pred ...] [GROUP BY col, ...]
 *     [HAVING expr] [ORDER BY expr, ...] [LIMIT n [OFFSET m]]
 *   item: col | count(*) | count(col) | sum(col) | total(col) | avg(col)
 *         | min(col) | max(col), each with an optional alias
 *   pred: col op literal | literal op col | col IS [NOT] NULL
 *         | col BETWEEN literal AND literal      (op: = == != <> < <= > >=)
 *
 * The scan and the grouping happen in sql_vtab_aggregate() (one pass, only
 * the columns used, row groups pruned); its groups land in a temporary table
 * _sluice_agg(k0.., a0..), and SQLite runs the rest of the query over that
 * small table: the select list as column references, HAVING as WHERE, ORDER
 * BY (or, when absent, the keys: SQLite's own GROUP BY comes out sorted by
 * its keys), LIMIT. Result column names are what SQLite would give: the
 * alias, the declared column name, or the aggregate's text as written.
 *
 * The same parser recognises a filtered projection (no aggregate, no GROUP
 * BY, no ORDER BY: `SELECT * | col, ... FROM t WHERE ... [LIMIT n]`), which
 * sql_vtab_scan() streams from the batches to the printer without SQLite's
 * per-row machinery, and stops reading at the LIMIT.
 *
 * Anything else, or anything here that SQLite would evaluate with a type
 * conversion, returns 0 and the statement runs in SQLite unchanged: this
 * file may decline any query, but must never change an answer.
 */
#include <ctype.h>
#include <errno.h>
#include <stdlib.h>
#include <string.h>

#include "base/buf.h"
#include "base/log.h"
#include "base/mem.h"
#include "sql/sql_int.h"

/* ---------------------------------------------------------------- MARK: tokens */

enum { T_END = 0, T_ID, T_QID, T_STR, T_NUM, T_OP };

struct tok {
    int kind;
    const char *p; /* borrowed: the statement text */
    size_t n;
};

#define TOKS_MAX 1024

static bool id_char(unsigned char c)
{
    return isalnum(c) || c == '_' || c == '$' || c >= 0x80;
}

/* Split text[0..len) into tokens; false on anything unexpected. */
static bool tokenize(const char *text, size_t len, struct tok *t, size_t *nt)
{
    size_t i = 0, n = 0;
    while (i < len) {
        unsigned char c = (unsigned char)text[i];
        if (isspace(c)) {
            i++;
            continue;
        }
        if (c == '-' && i + 1 < len && text[i + 1] == '-') {
            while (i < len && text[i] != '\n')
                i++;
            continue;
        }
        if (c == '/' && i + 1 < len && text[i + 1] == '*') {
            const char *e = strstr(text + i + 2, "*/");
            if (!e || (size_t)(e - text) > len)
                return false;
            i = (size_t)(e - text) + 2;
            continue;
        }
        if (n + 1 >= TOKS_MAX)
            return false;
        struct tok *k = &t[n++];
        k->p = text + i;
        size_t j = i;
        if (c == '\'' || c == '"' || c == '`' || c == '[') {
            char close = c == '[' ? ']' : (char)c;
            for (j = i + 1; j < len; j++) {
                if (text[j] == close) {
                    if (close != ']' && j + 1 < len && text[j + 1] == close) {
                        j++;
                        continue;
                    }
                    break;
                }
            }
            if (j >= len)
                return false;
            j++;
            k->kind = c == '\'' ? T_STR : T_QID;
        } else if (isdigit(c) || (c == '.' && i + 1 < len && isdigit((unsigned char)text[i + 1]))) {
            while (j < len && (isalnum((unsigned char)text[j]) || text[j] == '.' ||
                               ((text[j] == '+' || text[j] == '-') &&
                                (text[j - 1] == 'e' || text[j - 1] == 'E'))))
                j++;
            k->kind = T_NUM;
        } else if (id_char(c)) {
            while (j < len && id_char((unsigned char)text[j]))
                j++;
            k->kind = T_ID;
        } else {
            static const char *const two[] = { "==", "!=", "<>", "<=", ">=", "||", "<<", ">>" };
            j = i + 1;
            for (size_t q = 0; q < sizeof two / sizeof two[0]; q++)
                if (i + 1 < len && text[i] == two[q][0] && text[i + 1] == two[q][1])
                    j = i + 2;
            if (!strchr("(),;*=<>!+-/%.|&~", c))
                return false;
            k->kind = T_OP;
        }
        k->n = j - i;
        i = j;
    }
    t[n].kind = T_END;
    t[n].p = text + len;
    t[n].n = 0;
    *nt = n;
    return true;
}

static bool is_kw(const struct tok *t, const char *kw)
{
    return t->kind == T_ID && strlen(kw) == t->n && strncasecmp(t->p, kw, t->n) == 0;
}

static bool is_op(const struct tok *t, const char *op)
{
    return t->kind == T_OP && strlen(op) == t->n && strncmp(t->p, op, t->n) == 0;
}

/* The identifier's name (dequoted), owned by the caller. */
static char *tok_name(const struct tok *t)
{
    if (t->kind == T_ID)
        return sl_xstrndup(t->p, t->n);
    char *s = sl_xmalloc(t->n), q = t->p[0] == '[' ? ']' : t->p[0];
    size_t o = 0;
    for (size_t k = 1; k + 1 < t->n; k++) {
        s[o++] = t->p[k];
        if (t->p[k] == q && t->p[k + 1] == q)
            k++;
    }
    s[o] = 0;
    return s;
}

static const char *const reserved[] = {
    "select", "from", "where", "group", "by", "having", "order", "limit", "offset", "as",
    "and", "or", "not", "is", "null", "distinct", "all", "join", "left", "right", "inner",
    "outer", "cross", "natural", "on", "using", "union", "except", "intersect", "asc", "desc",
    "nulls", "first", "last", "between", "in", "like", "glob", "case", "when", "then", "else",
    "end", "exists", "collate", "escape", "window", "over", "filter", "true", "false", "isnull",
    "notnull", "cast", "indexed", "values", "with", "regexp", "match",
};

static bool is_reserved(const struct tok *t)
{
    for (size_t k = 0; k < sizeof reserved / sizeof reserved[0]; k++)
        if (is_kw(t, reserved[k]))
            return true;
    return false;
}

/* ---------------------------------------------------------------- MARK: parsing */

struct item {
    bool agg;
    int key;             /* !agg: table column */
    int a;               /* agg: index in plan.aggs */
    const char *span;    /* the item's text as written */
    size_t span_n;
    char *alias;         /* owned, or NULL */
};

struct parse {
    struct sql_session *s;
    struct tok *t;
    size_t i, nt;
    struct sql_agg_plan plan;
    int ncols;
    char *tname, *talias; /* owned */
    struct item items[SQL_AGG_FUNCS_MAX];
    int nitems;
    bool scan;            /* no aggregate, no GROUP BY: a filtered projection */
    int64_t limit, offset; /* scan: LIMIT (-1: none) and OFFSET */
};

static enum sql_agg_fn agg_fn(const struct tok *t)
{
    static const struct {
        const char *name;
        enum sql_agg_fn fn;
    } fns[] = { { "count", SQL_AGG_COUNT }, { "sum", SQL_AGG_SUM }, { "total", SQL_AGG_TOTAL },
                { "avg", SQL_AGG_AVG }, { "min", SQL_AGG_MIN }, { "max", SQL_AGG_MAX } };
    for (size_t k = 0; k < sizeof fns / sizeof fns[0]; k++)
        if (is_kw(t, fns[k].name))
            return fns[k].fn;
    return 0;
}

/* Resolve a column reference at p->i ([qualifier .] name); returns the table
 * column and advances, or -1 (not a column of the table; nothing consumed). */
static int column_ref(struct parse *p)
{
    struct tok *t = &p->t[p->i];
    if (t->kind != T_ID && t->kind != T_QID)
        return -1;
    if (t->kind == T_ID && is_reserved(t))
        return -1;
    size_t at = p->i;
    if (is_op(&t[1], ".")) {
        if (t[2].kind != T_ID && t[2].kind != T_QID)
            return -1;
        char *q = tok_name(t);
        bool ok = (p->talias && sqlite3_stricmp(q, p->talias) == 0) ||
                  sqlite3_stricmp(q, p->tname) == 0;
        free(q);
        if (!ok)
            return -1;
        at += 2;
    }
    char *name = tok_name(&p->t[at]);
    int col = -1;
    for (int c = 0; c < p->ncols; c++) {
        if (sqlite3_stricmp(name, sql_vtab_column_name(p->s, p->plan.table, c)) == 0) {
            col = c;
            break;
        }
    }
    free(name);
    if (col >= 0)
        p->i = at + 1;
    return col;
}

/* An aggregate call at p->i; returns its index in plan.aggs (added if new),
 * -1 when there is none here, -2 when it is one we cannot push down. */
static int agg_call(struct parse *p)
{
    struct tok *t = &p->t[p->i];
    enum sql_agg_fn fn = agg_fn(t);
    if (!fn || !is_op(&t[1], "("))
        return -1;
    p->i += 2;
    int col = -1;
    if (fn == SQL_AGG_COUNT && is_op(&p->t[p->i], "*")) {
        fn = SQL_AGG_COUNT_STAR;
        p->i++;
    } else {
        col = column_ref(p);
        if (col < 0)
            return -2;
    }
    if (!is_op(&p->t[p->i], ")"))
        return -2;
    p->i++;
    for (int k = 0; k < p->plan.naggs; k++)
        if (p->plan.aggs[k].fn == fn && p->plan.aggs[k].col == col)
            return k;
    if (p->plan.naggs >= SQL_AGG_FUNCS_MAX)
        return -2;
    p->plan.aggs[p->plan.naggs].fn = fn;
    p->plan.aggs[p->plan.naggs].col = col;
    return p->plan.naggs++;
}

/* A literal at p->i into constraint slot c; false when it is not one. */
static bool literal(struct parse *p, int c)
{
    struct tok *t = &p->t[p->i];
    int sign = 1;
    if (is_op(t, "-") || is_op(t, "+")) {
        sign = is_op(t, "-") ? -1 : 1;
        t++;
        if (t->kind != T_NUM)
            return false;
    }
    if (t->kind == T_STR) {
        /* The value with '' undoubled, kept in the token's own bytes is not
         * possible: only strings without '' are pushed down. */
        if (memchr(t->p + 1, '\'', t->n - 2))
            return false;
        p->plan.cons[c].kind = SQL_TEXT;
        p->plan.cons[c].s = t->p + 1;
        p->plan.cons[c].len = t->n - 2;
    } else if (t->kind == T_NUM) {
        char buf[64];
        if (t->n >= sizeof buf || (t->n > 1 && (t->p[1] == 'x' || t->p[1] == 'X')))
            return false;
        memcpy(buf, t->p, t->n);
        buf[t->n] = 0;
        char *end;
        if (strspn(buf, "0123456789") == t->n) {
            errno = 0;
            long long v = strtoll(buf, &end, 10);
            if (errno || *end)
                return false;
            p->plan.cons[c].kind = SQL_INT;
            p->plan.cons[c].i = sign * v;
        } else {
            double d = strtod(buf, &end);
            if (*end)
                return false;
            p->plan.cons[c].kind = SQL_REAL;
            p->plan.cons[c].d = sign * d;
        }
    } else if (is_kw(t, "null")) {
        p->plan.cons[c].kind = SQL_NULL;
    } else if (is_kw(t, "true") || is_kw(t, "false")) {
        p->plan.cons[c].kind = SQL_INT;
        p->plan.cons[c].i = is_kw(t, "true");
    } else {
        return false;
    }
    p->i = (size_t)(t - p->t) + 1;
    return true;
}

static int cmp_op(const struct tok *t, bool swapped)
{
    if (is_op(t, "=") || is_op(t, "=="))
        return SQL_OP_EQ;
    if (is_op(t, "!=") || is_op(t, "<>"))
        return SQL_OP_NE;
    if (is_op(t, "<"))
        return swapped ? SQL_OP_GT : SQL_OP_LT;
    if (is_op(t, "<="))
        return swapped ? SQL_OP_GE : SQL_OP_LE;
    if (is_op(t, ">"))
        return swapped ? SQL_OP_LT : SQL_OP_GT;
    if (is_op(t, ">="))
        return swapped ? SQL_OP_LE : SQL_OP_GE;
    return 0;
}

static bool add_cons(struct parse *p, int col, int op)
{
    if (p->plan.ncons >= SQL_AGG_CONS_MAX)
        return false;
    p->plan.cons[p->plan.ncons].col = col;
    p->plan.cons[p->plan.ncons].op = op;
    return true;
}

static bool predicate(struct parse *p)
{
    int c = p->plan.ncons;
    int col = column_ref(p);
    if (col >= 0) {
        struct tok *t = &p->t[p->i];
        if (is_kw(t, "is")) {
            bool not = is_kw(&t[1], "not");
            if (!is_kw(&t[1 + not], "null") || !add_cons(p, col, not ? SQL_OP_NOTNULL : SQL_OP_ISNULL))
                return false;
            p->plan.cons[c].kind = SQL_NULL;
            p->plan.ncons++;
            p->i += 2 + not;
            return true;
        }
        if (is_kw(t, "between")) {
            p->i++;
            if (!add_cons(p, col, SQL_OP_GE) || !literal(p, c))
                return false;
            p->plan.ncons++;
            if (!is_kw(&p->t[p->i], "and"))
                return false;
            p->i++;
            if (!add_cons(p, col, SQL_OP_LE) || !literal(p, c + 1))
                return false;
            p->plan.ncons++;
            return true;
        }
        int op = cmp_op(t, false);
        p->i++;
        if (!op || !add_cons(p, col, op) || !literal(p, c))
            return false;
        p->plan.ncons++;
        return true;
    }
    if (!literal(p, c))
        return false;
    int op = cmp_op(&p->t[p->i], true);
    p->i++;
    col = column_ref(p);
    if (!op || col < 0 || !add_cons(p, col, op))
        return false;
    p->plan.ncons++;
    return true;
}

/* Text of tokens [from, to) rewritten for the outer query over _sluice_agg:
 * aggregates -> aN, grouped columns -> kN, aliases kept; false when a name
 * cannot be placed there. `alias_first`: ORDER BY resolves result aliases
 * before columns, HAVING the other way round. */
static bool rewrite(struct parse *p, size_t from, size_t to, bool alias_first, struct sl_buf *out)
{
    p->i = from;
    while (p->i < to) {
        struct tok *t = &p->t[p->i];
        int a = agg_call(p);
        if (a == -2 || p->i > to)
            return false;
        if (a >= 0) {
            sl_buf_appendf(out, " a%d", a);
            continue;
        }
        if (t->kind == T_ID || t->kind == T_QID) {
            bool is_alias = false;
            if (!is_op(&t[1], ".") && !(t->kind == T_ID && is_reserved(t))) {
                char *name = tok_name(t);
                for (int k = 0; k < p->nitems; k++)
                    if (p->items[k].alias && sqlite3_stricmp(p->items[k].alias, name) == 0)
                        is_alias = true;
                free(name);
            }
            if (!(is_alias && alias_first)) {
                size_t at = p->i;
                int col = column_ref(p);
                if (col >= 0) {
                    int j = -1;
                    for (int k = 0; k < p->plan.nkeys; k++)
                        if (p->plan.keys[k] == col)
                            j = k;
                    if (j < 0)
                        return false; /* a column that is not grouped */
                    sl_buf_appendf(out, " k%d", j);
                    continue;
                }
                p->i = at;
            }
            if (!is_alias && t->kind == T_ID && !is_reserved(t) && !is_op(&t[1], "("))
                return false; /* a name we cannot place */
        }
        sl_buf_u8(out, ' ');
        sl_buf_append(out, t->p, t->n);
        p->i++;
    }
    return true;
}

static void parse_free(struct parse *p)
{
    for (int k = 0; k < p->nitems; k++)
        free(p->items[k].alias);
    free(p->tname);
    free(p->talias);
}

static int find_table(struct sql_session *s, const char *name)
{
    for (size_t k = s->tables.n; k-- > 0;)
        if (sqlite3_stricmp(s->tables.v[k].name, name) == 0)
            return s->vtabs[k] ? (int)k : -1;
    return -1;
}

/* Parse the statement into p->plan and the outer query in `outer`. */
static bool plan_query(struct parse *p, struct sl_buf *outer)
{
    struct tok *t = p->t;
    if (!is_kw(&t[0], "select") || is_kw(&t[1], "distinct") || is_kw(&t[1], "all"))
        return false;
    /* FROM first (items need the table's columns): find it at depth 0. */
    size_t from = 0;
    int depth = 0;
    for (size_t k = 1; k < p->nt; k++) {
        if (is_op(&t[k], "("))
            depth++;
        else if (is_op(&t[k], ")"))
            depth--;
        else if (depth == 0 && is_kw(&t[k], "from")) {
            from = k;
            break;
        }
    }
    if (!from || (t[from + 1].kind != T_ID && t[from + 1].kind != T_QID) ||
        (t[from + 1].kind == T_ID && is_reserved(&t[from + 1])) || is_op(&t[from + 2], "."))
        return false;
    p->tname = tok_name(&t[from + 1]);
    p->plan.table = find_table(p->s, p->tname);
    if (p->plan.table < 0)
        return false;
    p->ncols = sql_vtab_column_count(p->s, p->plan.table);
    size_t i = from + 2;
    if (is_kw(&t[i], "as"))
        i++;
    if ((t[i].kind == T_ID && !is_reserved(&t[i])) || t[i].kind == T_QID)
        p->talias = tok_name(&t[i++]);
    size_t after_from = i;

    /* The select list. */
    p->i = 1;
    while (p->i < from) {
        if (p->nitems >= SQL_AGG_FUNCS_MAX)
            return false;
        /* `*` or `alias.*`: every column, named as declared. */
        size_t star = p->i;
        if (!is_op(&t[star], "*") && is_op(&t[star + 1], ".") && is_op(&t[star + 2], "*")) {
            char *q = tok_name(&t[star]);
            bool ok = (p->talias && sqlite3_stricmp(q, p->talias) == 0) ||
                      sqlite3_stricmp(q, p->tname) == 0;
            free(q);
            if (!ok)
                return false;
            star += 2;
        }
        if (is_op(&t[star], "*")) {
            if (p->nitems + p->ncols > SQL_AGG_FUNCS_MAX)
                return false;
            for (int c = 0; c < p->ncols; c++)
                p->items[p->nitems++] = (struct item){ .key = c };
            p->i = star + 1;
            if (is_op(&t[p->i], ","))
                p->i++;
            else if (p->i != from)
                return false;
            continue;
        }
        struct item *it = &p->items[p->nitems++];
        size_t start = p->i;
        int a = agg_call(p);
        if (a == -2)
            return false;
        if (a >= 0) {
            it->agg = true;
            it->a = a;
        } else {
            it->key = column_ref(p);
            if (it->key < 0)
                return false;
        }
        it->span = t[start].p;
        it->span_n = (size_t)(t[p->i - 1].p + t[p->i - 1].n - t[start].p);
        if (is_kw(&t[p->i], "as")) {
            p->i++;
            if (t[p->i].kind != T_ID && t[p->i].kind != T_QID && t[p->i].kind != T_STR)
                return false;
            it->alias = t[p->i].kind == T_STR ? sl_xstrndup(t[p->i].p + 1, t[p->i].n - 2)
                                              : tok_name(&t[p->i]);
            p->i++;
        } else if ((t[p->i].kind == T_ID && !is_reserved(&t[p->i])) || t[p->i].kind == T_QID) {
            it->alias = tok_name(&t[p->i++]);
        }
        if (is_op(&t[p->i], ","))
            p->i++;
        else if (p->i != from)
            return false;
    }

    /* WHERE */
    p->i = after_from;
    if (is_kw(&t[p->i], "where")) {
        p->i++;
        do {
            if (!predicate(p))
                return false;
        } while (is_kw(&t[p->i], "and") && ++p->i);
    }
    /* GROUP BY */
    bool grouped = false;
    if (is_kw(&t[p->i], "group")) {
        if (!is_kw(&t[p->i + 1], "by"))
            return false;
        p->i += 2;
        grouped = true;
        do {
            if (p->plan.nkeys >= SQL_AGG_KEYS_MAX)
                return false;
            int col = -1;
            struct tok *g = &t[p->i];
            if (g->kind == T_NUM && !is_op(&g[1], ".")) {
                int pos = atoi(g->p);
                if (pos < 1 || pos > p->nitems || p->items[pos - 1].agg)
                    return false;
                col = p->items[pos - 1].key;
                p->i++;
            } else {
                col = column_ref(p);
                if (col < 0 && (g->kind == T_ID || g->kind == T_QID)) {
                    char *name = tok_name(g);
                    for (int k = 0; k < p->nitems; k++)
                        if (p->items[k].alias && !p->items[k].agg &&
                            sqlite3_stricmp(p->items[k].alias, name) == 0)
                            col = p->items[k].key;
                    free(name);
                    if (col >= 0)
                        p->i++;
                }
            }
            if (col < 0)
                return false;
            p->plan.keys[p->plan.nkeys++] = col;
        } while (is_op(&t[p->i], ",") && ++p->i);
    }
    /* Every plain column of the select list must be grouped; without GROUP
     * BY there must be aggregates only. */
    bool any_agg = false;
    for (int k = 0; k < p->nitems; k++)
        any_agg |= p->items[k].agg;
    p->scan = !grouped && !any_agg;
    for (int k = 0; k < p->nitems && !p->scan; k++) {
        if (p->items[k].agg)
            continue;
        bool ok = false;
        for (int j = 0; j < p->plan.nkeys; j++)
            ok |= p->plan.keys[j] == p->items[k].key;
        if (!ok)
            return false;
    }
    /* HAVING, ORDER BY, LIMIT: token ranges at depth 0. */
    size_t having = 0, order = 0, limit = 0, end = p->nt;
    if (p->nt && is_op(&t[p->nt - 1], ";"))
        end = p->nt - 1;
    depth = 0;
    for (size_t k = p->i; k < end; k++) {
        if (is_op(&t[k], "("))
            depth++;
        else if (is_op(&t[k], ")"))
            depth--;
        else if (depth == 0 && is_kw(&t[k], "having") && !having && !order && !limit)
            having = k;
        else if (depth == 0 && is_kw(&t[k], "order") && is_kw(&t[k + 1], "by") && !order && !limit)
            order = k;
        else if (depth == 0 && is_kw(&t[k], "limit") && !limit)
            limit = k;
        else if (depth == 0 && is_op(&t[k], ";"))
            return false; /* more statements after this one */
    }
    size_t first = having ? having : order ? order : limit ? limit : end;
    if (first != p->i || (having && !grouped))
        return false;
    if (p->scan) {
        /* A scan streams rows in table order: no ORDER BY; LIMIT only as
         * integer literals (LIMIT n, LIMIT n OFFSET m, LIMIT m, n). */
        p->limit = -1;
        p->offset = 0;
        if (order || having)
            return false;
        if (limit) {
            size_t k = limit + 1, n = end - k;
            bool lit1 = n >= 1 && t[k].kind == T_NUM && strspn(t[k].p, "0123456789") >= t[k].n;
            bool lit3 = n == 3 && lit1 && t[k + 2].kind == T_NUM &&
                        strspn(t[k + 2].p, "0123456789") >= t[k + 2].n;
            if (n == 1 && lit1) {
                p->limit = atoll(t[k].p);
            } else if (lit3 && is_kw(&t[k + 1], "offset")) {
                p->limit = atoll(t[k].p);
                p->offset = atoll(t[k + 2].p);
            } else if (lit3 && is_op(&t[k + 1], ",")) {
                p->offset = atoll(t[k].p);
                p->limit = atoll(t[k + 2].p);
            } else {
                return false;
            }
        }
        return true;
    }

    sl_buf_append_str(outer, "SELECT");
    for (int k = 0; k < p->nitems; k++) {
        struct item *it = &p->items[k];
        char *name;
        if (it->alias)
            name = sqlite3_mprintf("%s", it->alias);
        else if (it->agg)
            name = sqlite3_mprintf("%.*s", (int)it->span_n, it->span);
        else
            name = sqlite3_mprintf("%s", sql_vtab_column_name(p->s, p->plan.table, it->key));
        int j = 0;
        if (!it->agg)
            for (int q = 0; q < p->plan.nkeys; q++)
                if (p->plan.keys[q] == it->key)
                    j = q;
        char *sel = sqlite3_mprintf("%s %c%d AS \"%w\"", k ? "," : "", it->agg ? 'a' : 'k',
                                    it->agg ? it->a : j, name);
        sl_buf_append_str(outer, sel);
        sqlite3_free(sel);
        sqlite3_free(name);
    }
    sl_buf_append_str(outer, " FROM temp._sluice_agg");
    if (having) {
        sl_buf_append_str(outer, " WHERE");
        if (!rewrite(p, having + 1, order ? order : limit ? limit : end, false, outer))
            return false;
    }
    if (order) {
        sl_buf_append_str(outer, " ORDER BY");
        if (!rewrite(p, order + 2, limit ? limit : end, true, outer))
            return false;
        /* Ties in the order SQLite leaves them (observed with 3.40, not
         * promised by SQL): its groups come out by key, and a sort whose last
         * term is DESC returns its ties in reverse. */
        bool desc = is_kw(&t[(limit ? limit : end) - 1], "desc");
        for (int k = 0; k < p->plan.nkeys; k++)
            sl_buf_appendf(outer, ", k%d%s", k, desc ? " DESC" : "");
    } else if (p->plan.nkeys) {
        sl_buf_append_str(outer, " ORDER BY");
        for (int k = 0; k < p->plan.nkeys; k++)
            sl_buf_appendf(outer, "%s k%d", k ? "," : "", k);
    }
    if (limit) {
        for (size_t k = limit; k < end; k++) {
            if (t[k].kind == T_ID && !is_kw(&t[k], "limit") && !is_kw(&t[k], "offset"))
                return false;
            sl_buf_u8(outer, ' ');
            sl_buf_append(outer, t[k].p, t[k].n);
        }
    }
    return true;
}

/* ---------------------------------------------------------------- MARK: running */

static int exec_simple(struct sql_session *s, const char *sql)
{
    return sqlite3_exec(s->db, sql, NULL, NULL, NULL) == SQLITE_OK ? SL_OK : SL_EUSAGE;
}

int sql_agg_try(struct sql_session *s, const char *text, size_t len, struct sql_out *out,
                struct sl_error *err)
{
    struct tok *toks = sl_xcalloc(TOKS_MAX, sizeof *toks);
    struct parse p = { .s = s, .t = toks };
    struct sl_buf outer;
    sl_buf_init(&outer, 0);
    int ret = 0;
    if (!s->vtabs || !tokenize(text, len, toks, &p.nt) || p.nt < 4 || !plan_query(&p, &outer))
        goto done;
    if (p.scan) {
        int cols[SQL_AGG_FUNCS_MAX];
        const char *names[SQL_AGG_FUNCS_MAX];
        for (int k = 0; k < p.nitems; k++) {
            cols[k] = p.items[k].key;
            names[k] = p.items[k].alias ? p.items[k].alias
                                        : sql_vtab_column_name(s, p.plan.table, p.items[k].key);
        }
        int rc = sql_vtab_scan(s, &p.plan, cols, names, p.nitems, p.limit, p.offset, out, err);
        if (rc == SL_OK)
            sl_debug("sql: scan pushed down (%d columns)", p.nitems);
        ret = rc == 1 ? 0 : rc == SL_OK ? 1 : rc;
        goto done;
    }

    /* The groups' table: k0.., a0.. without types, so values keep theirs. */
    struct sl_buf ddl, ins;
    sl_buf_init(&ddl, 0);
    sl_buf_init(&ins, 0);
    sl_buf_append_str(&ddl, "DROP TABLE IF EXISTS temp._sluice_agg; CREATE TEMP TABLE _sluice_agg(");
    sl_buf_append_str(&ins, "INSERT INTO temp._sluice_agg VALUES(");
    int ncol = 0;
    for (int k = 0; k < p.plan.nkeys; k++, ncol++) {
        sl_buf_appendf(&ddl, "%sk%d", ncol ? ", " : "", k);
        sl_buf_appendf(&ins, "%s?", ncol ? ", " : "");
    }
    for (int k = 0; k < p.plan.naggs; k++, ncol++) {
        sl_buf_appendf(&ddl, "%sa%d", ncol ? ", " : "", k);
        sl_buf_appendf(&ins, "%s?", ncol ? ", " : "");
    }
    if (ncol == 0) {
        sl_buf_append_str(&ddl, "unused");
        sl_buf_append_str(&ins, "NULL");
    }
    sl_buf_append_str(&ddl, ")");
    sl_buf_append_str(&ins, ")");
    sqlite3_stmt *st = NULL;
    if (exec_simple(s, (const char *)ddl.data) != SL_OK ||
        sqlite3_prepare_v2(s->db, (const char *)ins.data, -1, &st, NULL) != SQLITE_OK) {
        sqlite3_finalize(st);
        sl_buf_release(&ddl);
        sl_buf_release(&ins);
        exec_simple(s, "DROP TABLE IF EXISTS temp._sluice_agg");
        goto done; /* let SQLite run it (and report whatever is wrong) */
    }
    sl_buf_release(&ddl);
    sl_buf_release(&ins);
    exec_simple(s, "BEGIN");
    int rc = sql_vtab_aggregate(s, &p.plan, st, err);
    exec_simple(s, "COMMIT");
    sqlite3_finalize(st);
    if (rc == 1) {
        exec_simple(s, "DROP TABLE IF EXISTS temp._sluice_agg");
        goto done;
    }
    if (rc < 0) {
        ret = rc;
    } else {
        sqlite3_stmt *q = NULL;
        if (sqlite3_prepare_v2(s->db, (const char *)outer.data, -1, &q, NULL) != SQLITE_OK) {
            /* Our rewrite is wrong, or the query is: let SQLite run the original. */
            sl_debug("sql: aggregate push-down declined: %s: %s", sqlite3_errmsg(s->db),
                     (const char *)outer.data);
            sqlite3_finalize(q);
            exec_simple(s, "DROP TABLE IF EXISTS temp._sluice_agg");
            goto done;
        }
        sl_debug("sql: aggregate pushed down: %s", (const char *)outer.data);
        ret = sql_session_run_stmt(s, q, out, err);
        sqlite3_finalize(q);
        ret = ret == SL_OK ? 1 : ret;
    }
    exec_simple(s, "DROP TABLE IF EXISTS temp._sluice_agg");
done:
    sl_buf_release(&outer);
    parse_free(&p);
    free(toks);
    return ret;
}
