/* SPDX-License-Identifier: MIT */
/*
 * text.c - a CSV text column as a token sequence (nb_data_opts.tokens): strict UTF-8 decoding
 * that says what is wrong, the two tokenizers (code points, whitespace-separated words), the
 * vocabulary learned from the training rows and the ids of one row.
 * Cost: tokens are counted in a hash set in one pass and sorted once (n log n in the distinct
 * tokens), never compared pairwise; a token longer than NB__MAX_TOKEN_BYTES is never stored
 * (it is unknown), so memory stays proportional to the file, whatever its longest "word".
 * Ids: 0 padding, 1 unknown, then 2.. by falling count, ties by the token's bytes (strcmp),
 * so the vocabulary does not depend on row order or hash layout.
 */
#include "data_internal.h"

#include <stdlib.h>
#include <string.h>

const char *nb__tokens_name(int tokens)
{
    return tokens == NB_TOKENS_CHARS ? "chars" : tokens == NB_TOKENS_WORDS ? "words" : "none";
}

/* The length (1..4) of the UTF-8 sequence at p, or 0 with *why saying what is wrong. Reads no
 * byte past a NUL (a NUL is not a continuation byte). */
static size_t utf8_len(const unsigned char *p, const char **why)
{
    unsigned c = p[0];
    if (c < 0x80) return 1;
    size_t n = c >= 0xC2 && c <= 0xDF ? 2 : c >= 0xE0 && c <= 0xEF ? 3 : c >= 0xF0 && c <= 0xF4 ? 4 : 0;
    if (n == 0) {
        *why = c == 0xC0 || c == 0xC1 ? "an overlong form"
               : c <= 0xBF           ? "a continuation byte without a lead byte"
                                     : "a byte that never occurs in UTF-8";
        return 0;
    }
    unsigned cp = n == 2 ? c & 0x1F : n == 3 ? c & 0x0F : c & 0x07;
    for (size_t i = 1; i < n; i++) {
        if ((p[i] & 0xC0) != 0x80) {
            *why = "a truncated sequence";
            return 0;
        }
        cp = cp << 6 | (p[i] & 0x3F);
    }
    if ((n == 3 && cp < 0x800) || (n == 4 && cp < 0x10000)) *why = "an overlong form";
    else if (cp >= 0xD800 && cp <= 0xDFFF) *why = "a UTF-16 surrogate";
    else if (cp > 0x10FFFF) *why = "a value past U+10FFFF";
    else return n;
    return 0;
}

static int check_text(const nb__csv *r, size_t j, const char *label, const char *text)
{
    const unsigned char *p = (const unsigned char *)text;
    while (*p) {
        const char *why = "";
        size_t n = utf8_len(p, &why);
        if (n == 0)
            return nb__fail(NB_ERR_FORMAT, "%s:%zu: column %zu%s: invalid UTF-8 at byte %zu of the "
                            "text (%s): save the file as UTF-8", r->path, r->row_line, j, label,
                            (size_t)(p - (const unsigned char *)text), why);
        p += n;
    }
    return NB_OK;
}

static bool is_space(char c)
{
    return c == ' ' || c == '\t' || c == '\n' || c == '\r' || c == '\v' || c == '\f';
}

/* The next token of validated text at *p into [*s, *s + *len); false at its end. */
static bool next_token(int mode, const char **p, const char **s, size_t *len)
{
    const char *q = *p;
    if (mode == NB_TOKENS_CHARS) {
        if (!*q) return false;
        const char *why;
        size_t n = utf8_len((const unsigned char *)q, &why);
        *s = q, *len = n ? n : 1; /* n is never 0 on validated text */
        *p = q + *len;
        return true;
    }
    while (*q && is_space(*q)) q++;
    if (!*q) return false;
    *s = q;
    while (*q && !is_space(*q)) q++;
    *len = (size_t)(q - *s);
    *p = q;
    return true;
}

typedef struct entry {
    int64_t count;
    char *s;
} entry;

static int by_count_then_bytes(const void *a, const void *b)
{
    const entry *x = a, *y = b;
    if (x->count != y->count) return x->count > y->count ? -1 : 1;
    return strcmp(x->s, y->s); /* compares the bytes as unsigned char */
}

/* The learned tokens into col->vocab in id order: count >= min_count, at most keep. */
static int make_vocab(nb__strset *seen, const int64_t *count, int64_t min_count, size_t keep,
                      nb__column *col)
{
    size_t n;
    char **items = nb__strset_take(seen, &n);
    entry *e = n ? nb__alloc_array(n, sizeof *e) : NULL;
    if (n && !e) {
        nb__strv_free(items, n);
        return NB_ERR_NOMEM;
    }
    for (size_t i = 0; i < n; i++) e[i].count = count[i], e[i].s = items[i];
    if (n > 1) qsort(e, n, sizeof *e, by_count_then_bytes);
    size_t k = 0;
    while (k < n && k < keep && e[k].count >= min_count) k++;
    char **vocab = k ? nb__alloc_array(k, sizeof *vocab) : NULL;
    int rc = k && !vocab ? NB_ERR_NOMEM : NB_OK;
    for (size_t i = 0; i < n; i++) {
        if (rc == NB_OK && i < k) vocab[i] = e[i].s; /* moved, not copied */
        else nb_free(e[i].s);
    }
    nb_free(e);
    nb_free(items);
    col->vocab = vocab;
    col->n_vocab = rc ? 0 : k;
    return rc;
}

int nb__text_learn(nb__csv *r, bool has_header, const nb_data_opts *o, nb__schema *s, size_t c)
{
    nb__column *col = &s->columns[c];
    char label[160];
    nb__col_label(s, c, label, sizeof label);
    nb__strset seen = {0};
    int64_t *count = NULL, longest = 0;
    size_t cap = 0;
    bool got;
    int rc = NB_OK;
    nb__csv_rewind(r);
    if (has_header) rc = nb__csv_next(r, &got);
    while (rc == NB_OK && (rc = nb__csv_next(r, &got)) == NB_OK && got) {
        if (r->n_cells != s->n_columns) { /* the schema pass has refused such rows */
            rc = nb__fail(NB_ERR_STATE, "%s: the file changed while it was read", r->path);
            break;
        }
        const char *text = r->cells[c].s, *p = text, *tok;
        size_t len;
        int64_t n_tok = 0;
        if ((rc = check_text(r, c, label, text))) break;
        while (rc == NB_OK && next_token(col->tokens, &p, &tok, &len)) {
            n_tok++;
            if (len > NB__MAX_TOKEN_BYTES) continue; /* unknown: never stored */
            char buf[NB__MAX_TOKEN_BYTES + 1];
            memcpy(buf, tok, len);
            buf[len] = '\0';
            size_t idx;
            if ((rc = nb__strset_add(&seen, buf, &idx))) break;
            if (idx >= cap) {
                size_t ncap = cap ? cap * 2 : 256;
                int64_t *grown = nb__alloc_array(ncap, sizeof *grown);
                if (!grown) {
                    rc = NB_ERR_NOMEM;
                    break;
                }
                if (cap) memcpy(grown, count, cap * sizeof *count);
                memset(grown + cap, 0, (ncap - cap) * sizeof *grown);
                nb_free(count);
                count = grown, cap = ncap;
            }
            count[idx]++;
        }
        if (n_tok > longest) longest = n_tok;
    }
    size_t keep = (size_t)(o->max_vocab ? o->max_vocab : NB__MAX_TEXT_VOCAB) - 2;
    if (rc == NB_OK) rc = make_vocab(&seen, count, o->min_count, keep, col);
    nb__strset_free(&seen);
    nb_free(count);
    if (rc) return rc;
    if (o->max_len) col->max_len = o->max_len;
    else col->max_len = longest < 1 ? 1 : longest > NB__MAX_TEXT_LEN_AUTO ? NB__MAX_TEXT_LEN_AUTO : longest;
    return NB_OK;
}

int nb__text_fill(const nb__csv *r, size_t j, const char *label, const nb__column *col,
                  const nb__strset *ids, const char *text, float *x)
{
    int rc = check_text(r, j, label, text); /* all of it: an error past max_len is one too */
    if (rc) return rc;
    const char *p = text, *tok;
    size_t len;
    int64_t k = 0;
    while (k < col->max_len && next_token(col->tokens, &p, &tok, &len)) {
        int64_t id = -1;
        if (len <= NB__MAX_TOKEN_BYTES) {
            char buf[NB__MAX_TOKEN_BYTES + 1];
            memcpy(buf, tok, len);
            buf[len] = '\0';
            id = nb__strset_find(ids, buf);
        }
        x[k++] = id < 0 ? 1.0f : (float)(id + 2);
    }
    for (; k < col->max_len; k++) x[k] = 0.0f; /* right padding */
    return NB_OK;
}
