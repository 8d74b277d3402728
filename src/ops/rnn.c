/* SPDX-License-Identifier: MIT */
/*
 * rnn.c - a whole recurrent layer (tanh RNN, LSTM or GRU; one or two directions) forward and
 * backward through time, PyTorch's formulas and gate order (ops.h, nb__rnn).
 * Per direction, the input products of every step are one matrix product xg = x W_ih^T
 * (B T, G H); each step then multiplies the previous states of all rows at once, hg =
 * h W_hh^T (B, G H), and finishes the gates row by row. Steps are counted per row: the
 * forward direction's step s is time s, the reverse one's is time len - 1 - s, so both start
 * at step 0 for every row and a row whose length is over keeps its state (copied forward), so
 * that step T - 1 holds every row's final state. A row's values never depend on another
 * row's: the products are computed for all B rows whatever the lengths (their shapes, hence
 * their summation orders, are fixed), and every product sums in a fixed order on any thread
 * count (nb__gemm); the gates of a step are split over the threads by rows (each row is
 * computed by one task, as one thread would), and sums over rows run in one thread in order.
 */
#include "ops.h"

#include <math.h>
#include <stdint.h>
#include <string.h>

/* The gates' nonlinearities, vectorised. libm's tanhf and expf are scalar calls and took 40%
 * of an LSTM epoch (perf, bench/README.md); these are plain float operations on one value
 * each, so -O3 turns the loops over them into vector code and, with -ffp-contract=off, every
 * CPU computes the same bits. exp_v: x = k ln2 + r with k rounded to nearest by adding 1.5 2^23
 * (x clamped to [-87, 88], so 2^k is a normal float built from its exponent bits), r exact
 * through a two-part ln2 (the high part's 15 bits times k's 8 are exact), e^r by its degree-7
 * Taylor polynomial (|r| <= ln2 / 2: truncation 5e-9). NaN stays NaN (no conversion to an
 * integer: the bits are read with memcpy). tanh_v: the odd Taylor polynomial to x^9 below
 * |x| = 1/4 (truncation 9e-9 relative), 1 - 2 / (e^2|x| + 1) with x's sign above.
 * tests/ops/test_eltwise.c holds both to double's within 1e-6 relative over [-40, 40]. */
static inline float exp_v(float x)
{
    x = x < -87.0f ? -87.0f : x;
    x = x > 88.0f ? 88.0f : x;
    const float magic = 12582912.0f; /* 1.5 2^23: a float this size has no fraction bits */
    float kf = x * 1.44269504f + magic;
    uint32_t kb;
    memcpy(&kb, &kf, sizeof kb);
    kf -= magic;
    float r = (x - kf * 0.693145752f) - kf * 1.42860682e-6f;
    float p = 1.0f + r * (1.0f + r * (0.5f + r * (1.66666667e-1f + r * (4.16666667e-2f +
              r * (8.33333333e-3f + r * (1.38888889e-3f + r * 1.98412698e-4f))))));
    uint32_t eb = (kb - 0x4B400000u + 127u) << 23; /* k + 127 in the exponent field */
    float two_k;
    memcpy(&two_k, &eb, sizeof two_k);
    return p * two_k;
}

static inline float sigmoid_v(float x) { return 1.0f / (1.0f + exp_v(-x)); }

static inline float tanh_v(float x)
{
    float ax = fabsf(x), x2 = x * x;
    float small = x + x * x2 * (-3.33333333e-1f + x2 * (1.33333333e-1f + x2 * (-5.39682540e-2f + x2 * 2.18694885e-2f)));
    float big = copysignf(1.0f - 2.0f / (exp_v(2.0f * ax) + 1.0f), x);
    return ax < 0.25f ? small : big;
}

float nb__rnn_tanh(float x) { return tanh_v(x); }
float nb__rnn_sigmoid(float x) { return sigmoid_v(x); }

static size_t gates_of(int cell) { return cell == 1 ? 4 : cell == 2 ? 3 : 1; }

/* the floats one direction keeps: xg (B T GH: backward reuses it for the gates' gradients by
 * time), act (T B GH: the activated gates, LSTM and GRU), hs (T B H: states by step) and cs
 * (T B H: LSTM cell states, GRU's W_hn h + b_hn) */
static size_t dir_floats(const nb__rnn *r)
{
    size_t GH = gates_of(r->cell) * r->H, BT = r->B * r->T;
    return BT * GH + (r->cell ? BT * GH + BT * r->H : 0) + BT * r->H;
}

size_t nb__rnn_aux_floats(const nb__rnn *r)
{
    size_t GH = gates_of(r->cell) * r->H;
    return (size_t)r->dirs * dir_floats(r) + r->B * GH + 3 * r->B * r->H;
}

typedef struct {
    float *xg, *act, *hs, *cs;
} dir_state;

static dir_state state_of(const nb__rnn *r, float *aux, int d)
{
    size_t GH = gates_of(r->cell) * r->H, BT = r->B * r->T;
    dir_state st;
    st.xg = aux + (size_t)d * dir_floats(r);
    st.act = st.xg + BT * GH;
    st.hs = st.act + (r->cell ? BT * GH : 0);
    st.cs = r->cell ? st.hs + BT * r->H : NULL;
    return st;
}

/* the time step a row of length len is at on step s of direction d */
static size_t time_of(int d, size_t s, size_t len) { return d ? len - 1 - s : s; }

/* one step of one direction, for rows [task B / tasks, (task + 1) B / tasks): each row's
 * values are computed by one task, so the split never changes them */
typedef struct {
    const nb__rnn *r;
    int d;
    size_t s;
    dir_state st;
    float *hg;                       /* forward: h W_hh^T of every row; backward: dhg */
    const float *bih, *bhh, *dy;
    const float *hp, *cp;            /* the previous step's states (NULL at step 0) */
    float *dh, *dc, *direct;         /* backward */
    size_t tasks;
} step_ctx;

static void fwd_row(const step_ctx *k, size_t b)
{
    const nb__rnn *r = k->r;
    size_t B = r->B, T = r->T, H = r->H, GH = gates_of(r->cell) * H, s = k->s;
    int d = k->d;
    dir_state st = k->st;
    const float *hg = k->hg, *bih = k->bih, *bhh = k->bhh, *hp = k->hp, *cp = k->cp;
    float *h = st.hs + (s * B + b) * H, *c = st.cs ? st.cs + (s * B + b) * H : NULL;
    size_t len = (size_t)r->len[b];
    if (s >= len) { /* the row is over: its state stays */
        if (hp) memcpy(h, hp + b * H, H * sizeof *h);
        else memset(h, 0, H * sizeof *h);
        if (r->cell == 1) {
            if (cp) memcpy(c, cp + b * H, H * sizeof *c);
            else memset(c, 0, H * sizeof *c);
        }
        return;
    }
    const float *xr = st.xg + (b * T + time_of(d, s, len)) * GH, *hr = hg + b * GH;
    float *a = r->cell ? st.act + (s * B + b) * GH : NULL;
    if (r->cell == 0) {
        for (size_t j = 0; j < H; j++) h[j] = tanh_v(xr[j] + bih[j] + (hr[j] + bhh[j]));
    } else if (r->cell == 1) { /* gates i, f, g, o: each range one vectorisable loop */
        for (size_t j = 0; j < 2 * H; j++) a[j] = sigmoid_v(xr[j] + bih[j] + (hr[j] + bhh[j]));
        for (size_t j = 2 * H; j < 3 * H; j++) a[j] = tanh_v(xr[j] + bih[j] + (hr[j] + bhh[j]));
        for (size_t j = 3 * H; j < 4 * H; j++) a[j] = sigmoid_v(xr[j] + bih[j] + (hr[j] + bhh[j]));
        for (size_t j = 0; j < H; j++) {
            c[j] = a[H + j] * (cp ? cp[b * H + j] : 0.0f) + a[j] * a[2 * H + j];
            h[j] = a[3 * H + j] * tanh_v(c[j]);
        }
    } else { /* gates r, z, n; c holds W_hn h + b_hn, which r's gradient needs */
        for (size_t j = 0; j < 2 * H; j++) a[j] = sigmoid_v(xr[j] + bih[j] + (hr[j] + bhh[j]));
        for (size_t j = 0; j < H; j++) {
            c[j] = hr[2 * H + j] + bhh[2 * H + j];
            a[2 * H + j] = tanh_v(xr[2 * H + j] + bih[2 * H + j] + a[j] * c[j]);
            float z = a[H + j], hprev = hp ? hp[b * H + j] : 0.0f;
            h[j] = (1.0f - z) * a[2 * H + j] + z * hprev;
        }
    }
}

static void fwd_task(void *ctx, size_t task, float *scratch)
{
    const step_ctx *k = ctx;
    (void)scratch;
    for (size_t b = k->r->B * task / k->tasks; b < k->r->B * (task + 1) / k->tasks; b++) fwd_row(k, b);
}

static void dir_fwd(const nb__rnn *r, int d, const float *x, const float *const *w, float *aux)
{
    size_t B = r->B, T = r->T, H = r->H, GH = gates_of(r->cell) * H;
    const float *wih = w[4 * d], *whh = w[4 * d + 1], *bih = w[4 * d + 2], *bhh = w[4 * d + 3];
    dir_state st = state_of(r, aux, d);
    float *hg = aux + (size_t)r->dirs * dir_floats(r);
    nb__gemm(0, 1, B * T, GH, r->F, 1.0f, x, r->F, wih, r->F, 0.0f, st.xg, GH);
    for (size_t s = 0; s < T; s++) {
        const float *hp = s ? st.hs + (s - 1) * B * H : NULL, *cp = s && st.cs ? st.cs + (s - 1) * B * H : NULL;
        if (hp) nb__gemm(0, 1, B, GH, H, 1.0f, hp, H, whh, H, 0.0f, hg, GH);
        else memset(hg, 0, B * GH * sizeof *hg); /* zero initial state */
        step_ctx c = {r, d, s, st, hg, bih, bhh, NULL, hp, cp, NULL, NULL, NULL, 0};
        c.tasks = nb__job_tasks(B, B * GH);
        nb__run_tasks(c.tasks, fwd_task, &c);
    }
}

void nb__rnn_fwd(const nb__rnn *r, const float *x, const float *const *w, float *y, float *aux)
{
    size_t B = r->B, T = r->T, H = r->H, DH = (size_t)r->dirs * H;
    for (int d = 0; d < r->dirs; d++) dir_fwd(r, d, x, w, aux);
    if (r->output == 1) memset(y, 0, B * T * DH * sizeof *y); /* padded steps are 0 */
    for (int d = 0; d < r->dirs; d++) {
        const float *hs = state_of(r, aux, d).hs;
        for (size_t b = 0; b < B; b++) {
            size_t len = (size_t)r->len[b];
            if (r->output == 0) { /* step T - 1 holds the final state (rows over keep theirs) */
                memcpy(y + b * DH + (size_t)d * H, hs + ((T - 1) * B + b) * H, H * sizeof *y);
            } else if (r->output == 1) {
                for (size_t s = 0; s < len; s++)
                    memcpy(y + (b * T + time_of(d, s, len)) * DH + (size_t)d * H, hs + (s * B + b) * H, H * sizeof *y);
            } else {
                float *o = y + b * DH + (size_t)d * H;
                for (size_t j = 0; j < H; j++) {
                    float sum = 0.0f; /* in time order, as the mean of the sequence output */
                    for (size_t t = 0; t < len; t++) sum += hs[(time_of(d, t, len) * B + b) * H + j];
                    o[j] = len ? sum / (float)len : 0.0f;
                }
            }
        }
    }
}

/* d(loss)/d(state) from the output, for row b at step s (time t) of direction d, element j */
static float dout_of(const nb__rnn *r, const float *dy, int d, size_t b, size_t s, size_t t, size_t j)
{
    size_t DH = (size_t)r->dirs * r->H, len = (size_t)r->len[b], o = (size_t)d * r->H + j;
    if (r->output == 1) return dy[(b * r->T + t) * DH + o];
    if (r->output == 0) return s + 1 == len ? dy[b * DH + o] : 0.0f;
    return dy[b * DH + o] / (float)len;
}

static void bwd_row(const step_ctx *k, size_t b)
{
    const nb__rnn *r = k->r;
    size_t B = r->B, T = r->T, H = r->H, GH = gates_of(r->cell) * H, s = k->s;
    int d = k->d;
    dir_state st = k->st;
    const float *dy = k->dy, *hp = k->hp, *cp = k->cp;
    float *dxg = st.xg, *dhg = k->hg, *dh = k->dh, *dc = k->dc, *direct = k->direct;
    size_t len = (size_t)r->len[b];
    float *gh = dhg + b * GH, *hd = dh + b * H, *dr = direct + b * H;
    if (s >= len) { /* not started yet (backwards): no gradient flows */
        memset(gh, 0, GH * sizeof *gh);
        return;
    }
    size_t t = time_of(d, s, len);
    float *gx = dxg + (b * T + t) * GH;
    const float *h = st.hs + (s * B + b) * H, *a = r->cell ? st.act + (s * B + b) * GH : NULL;
    if (r->cell == 0) {
        for (size_t j = 0; j < H; j++) {
            float g = hd[j] + dout_of(r, dy, d, b, s, t, j);
            gx[j] = gh[j] = g * (1.0f - h[j] * h[j]);
            dr[j] = 0.0f;
        }
    } else if (r->cell == 1) {
        const float *c = st.cs + (s * B + b) * H;
        float *cd = dc + b * H;
        for (size_t j = 0; j < H; j++) dr[j] = tanh_v(c[j]); /* apart: this loop vectorises */
        for (size_t j = 0; j < H; j++) {
            float g = hd[j] + dout_of(r, dy, d, b, s, t, j), tc = dr[j];
            float i = a[j], f = a[H + j], gg = a[2 * H + j], o = a[3 * H + j];
            float dct = cd[j] + g * o * (1.0f - tc * tc), c0 = cp ? cp[b * H + j] : 0.0f;
            gx[j] = gh[j] = dct * gg * i * (1.0f - i);
            gx[H + j] = gh[H + j] = dct * c0 * f * (1.0f - f);
            gx[2 * H + j] = gh[2 * H + j] = dct * i * (1.0f - gg * gg);
            gx[3 * H + j] = gh[3 * H + j] = g * tc * o * (1.0f - o);
            cd[j] = dct * f;
            dr[j] = 0.0f;
        }
    } else {
        const float *hn = st.cs + (s * B + b) * H;
        for (size_t j = 0; j < H; j++) {
            float g = hd[j] + dout_of(r, dy, d, b, s, t, j);
            float rr = a[j], z = a[H + j], n = a[2 * H + j], h0 = hp ? hp[b * H + j] : 0.0f;
            float dn = g * (1.0f - z) * (1.0f - n * n);
            float drr = dn * hn[j] * rr * (1.0f - rr);
            gx[j] = gh[j] = drr;
            gx[H + j] = gh[H + j] = g * (h0 - n) * z * (1.0f - z);
            gx[2 * H + j] = dn;
            gh[2 * H + j] = dn * rr;
            dr[j] = g * z;
        }
    }
}

static void bwd_task(void *ctx, size_t task, float *scratch)
{
    const step_ctx *k = ctx;
    (void)scratch;
    for (size_t b = k->r->B * task / k->tasks; b < k->r->B * (task + 1) / k->tasks; b++) bwd_row(k, b);
}

static void dir_bwd(const nb__rnn *r, int d, const float *x, const float *const *w, const float *dy, float *dx,
                    float *const *dw, float *aux)
{
    size_t B = r->B, T = r->T, H = r->H, GH = gates_of(r->cell) * H;
    const float *wih = w[4 * d], *whh = w[4 * d + 1];
    float *dwih = dw[4 * d], *dwhh = dw[4 * d + 1], *dbih = dw[4 * d + 2], *dbhh = dw[4 * d + 3];
    dir_state st = state_of(r, aux, d);
    float *dxg = st.xg; /* the gates' pre-activation gradients by (row, time); padding 0 */
    float *dhg = aux + (size_t)r->dirs * dir_floats(r); /* the same for the recurrent product, by row */
    float *dh = dhg + B * GH, *dc = dh + B * H, *direct = dc + B * H;
    memset(dxg, 0, B * T * GH * sizeof *dxg);
    memset(dh, 0, 2 * B * H * sizeof *dh); /* dh and dc: nothing comes after the last step */
    for (size_t s = T; s-- > 0;) {
        const float *hp = s ? st.hs + (s - 1) * B * H : NULL, *cp = s && st.cs ? st.cs + (s - 1) * B * H : NULL;
        step_ctx c = {r, d, s, st, dhg, NULL, NULL, dy, hp, cp, dh, dc, direct, 0};
        c.tasks = nb__job_tasks(B, B * GH);
        nb__run_tasks(c.tasks, bwd_task, &c);
        if (dbhh)
            for (size_t b = 0; b < B; b++)
                if (s < (size_t)r->len[b])
                    for (size_t j = 0; j < GH; j++) dbhh[j] += dhg[b * GH + j];
        if (!hp) break; /* step 0 started from the zero state: nothing before it */
        if (dwhh) nb__gemm(1, 0, GH, H, B, 1.0f, dhg, GH, hp, H, 1.0f, dwhh, H);
        /* the previous step's dh: through W_hh, plus GRU's direct z path; rows not started
         * have dhg 0, so their dh stays 0 */
        nb__gemm(0, 0, B, H, GH, 1.0f, dhg, GH, whh, H, 0.0f, dh, H);
        for (size_t b = 0; b < B; b++)
            if (s < (size_t)r->len[b])
                for (size_t j = 0; j < H; j++) dh[b * H + j] += direct[b * H + j];
    }
    if (dx) nb__gemm(0, 0, B * T, r->F, GH, 1.0f, dxg, GH, wih, r->F, 1.0f, dx, r->F);
    if (dwih) nb__gemm(1, 0, GH, r->F, B * T, 1.0f, dxg, GH, x, r->F, 1.0f, dwih, r->F);
    if (dbih)
        for (size_t k = 0; k < B * T; k++)
            for (size_t j = 0; j < GH; j++) dbih[j] += dxg[k * GH + j];
}

void nb__rnn_bwd(const nb__rnn *r, const float *x, const float *const *w, const float *dy, float *dx,
                 float *const *dw, float *aux)
{
    for (int d = 0; d < r->dirs; d++) dir_bwd(r, d, x, w, dy, dx, dw, aux);
}
