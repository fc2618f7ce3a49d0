/* Calls every nnet function with bad input: NULL pointers, wrong lengths, overflowing sizes,
 * invalid enum values, NaN and infinity, zero or negative rates and sizes, corrupt model
 * buffers (every truncation and every single-bit flip of a small saved network), overlapping
 * buffers, and malformed CSV, FANN and IDX files written to a scratch folder for the data-set
 * loaders. Each case must return the expected non-OK status, leave a non-empty message in
 * nnet_last_error(), and leave the caller's memory (sentinel-filled outputs, the network's
 * weights, handles) untouched. Prints the number of cases. */
#define _POSIX_C_SOURCE 200809L
#include <math.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "nnet.h"

static int cases, failures;

static void fail(int line, const char *expr, const char *why) {
    failures++;
    fprintf(stderr, "bad_input.c:%d: %s: %s\n", line, expr, why);
}

static void expect(NnetStatus want, NnetStatus got, const char *expr, int line) {
    cases++;
    const char *msg = nnet_last_error();
    char why[512];
    if (got != want) {
        snprintf(why, sizeof why, "returned %u (%s), expected %u (%s); message: %s", (unsigned)got,
                 nnet_status_string(got), (unsigned)want, nnet_status_string(want),
                 msg ? msg : "(none)");
        fail(line, expr, why);
    } else if (msg == NULL || msg[0] == '\0') {
        fail(line, expr, "no error message");
    }
}

static void require(int ok, const char *expr, int line) {
    if (!ok) fail(line, expr, "does not hold");
}

/* a call that must fail with `want` and leave `keep` true */
#define EXPECT(want, call, keep)                 \
    do {                                         \
        expect((want), (call), #call, __LINE__); \
        require((keep), #keep, __LINE__);        \
    } while (0)

/* a call that must succeed and leave `keep` true */
#define EXPECT_OK(call, keep)                                  \
    do {                                                       \
        cases++;                                               \
        require((call) == NNET_OK, #call " == NNET_OK", __LINE__); \
        require((keep), #keep, __LINE__);                      \
    } while (0)

/* a call that cannot fail, checked for its documented answer to bad input */
#define INFALLIBLE(cond)                  \
    do {                                  \
        cases++;                          \
        require((cond), #cond, __LINE__); \
    } while (0)

enum {
    OK = NNET_OK,
    NUL = NNET_ERR_NULL_POINTER,
    INV = NNET_ERR_INVALID_ARGUMENT,
    SHAPE = NNET_ERR_SHAPE_MISMATCH,
    NONFIN = NNET_ERR_NON_FINITE,
    IO = NNET_ERR_IO,
    FMT = NNET_ERR_FORMAT,
    OOM = NNET_ERR_OUT_OF_MEMORY,
    OVER = NNET_ERR_OVERFLOW,
};

static const float SENT = 1234.5f;

static void fill(float *p, size_t n) {
    for (size_t i = 0; i < n; i++) p[i] = SENT;
}

static int untouched(const float *p, size_t n) {
    for (size_t i = 0; i < n; i++)
        if (memcmp(&p[i], &SENT, sizeof SENT) != 0) return 0;
    return 1;
}

/* the network's weights equal `w` (D values) */
static int weights_are(const NnetNetwork *net, const float *w, size_t d) {
    float now[64];
    if (d > 64 || nnet_network_get_weights(net, now, d) != NNET_OK) return 0;
    return memcmp(now, w, d * sizeof(float)) == 0;
}

static int callback_calls;
static int32_t count_epochs(const NnetEpochInfo *info, void *user) {
    (void)info;
    (void)user;
    callback_calls++;
    return 0;
}
static int32_t stop_at_2(const NnetEpochInfo *info, void *user) {
    (void)user;
    callback_calls++;
    return info->epoch >= 2;
}

static char dummy_handle;
#define SENT_NET ((NnetNetwork *)(void *)&dummy_handle)
#define SENT_DS ((NnetDataset *)(void *)&dummy_handle)

/* ---------------------------------------------------------------- scratch files */
static char scratch_dir[400];
static char scratch[64][512];
static int n_scratch;

/* Writes `len` bytes to a new file `name` in the scratch folder and returns its path (NULL when
 * it cannot be written; the caller counts that as a failure). */
static const char *put(const char *name, const void *bytes, size_t len) {
    if (n_scratch == (int)(sizeof scratch / sizeof scratch[0])) return NULL;
    char *path = scratch[n_scratch];
    snprintf(path, sizeof scratch[0], "%s/%s", scratch_dir, name);
    FILE *f = fopen(path, "wb");
    if (!f) return NULL;
    size_t wrote = fwrite(bytes, 1, len, f);
    if (fclose(f) != 0 || wrote != len) return NULL;
    n_scratch++;
    return path;
}

static const char *put_text(const char *name, const char *text) {
    return put(name, text, strlen(text));
}

/* An IDX file of unsigned bytes: the magic 00 00 08 n, n big-endian dimensions, the data. */
static const char *put_idx(const char *name, const uint32_t *dims, int n, const uint8_t *data,
                           size_t len) {
    uint8_t buf[256];
    size_t at = 0;
    if (n < 1 || 4 + 4 * (size_t)n + len > sizeof buf) return NULL;
    buf[at++] = 0, buf[at++] = 0, buf[at++] = 8, buf[at++] = (uint8_t)n;
    for (int i = 0; i < n; i++) {
        buf[at++] = (uint8_t)(dims[i] >> 24), buf[at++] = (uint8_t)(dims[i] >> 16);
        buf[at++] = (uint8_t)(dims[i] >> 8), buf[at++] = (uint8_t)dims[i];
    }
    if (len) memcpy(buf + at, data, len);
    return put(name, buf, at + len);
}

static void remove_scratch(void) {
    for (int i = 0; i < n_scratch; i++) remove(scratch[i]);
    if (scratch_dir[0]) rmdir(scratch_dir);
}

/* the data set's shape is (r, i, o) */
static int shape_is(const NnetDataset *ds, size_t r, size_t i, size_t o) {
    size_t rows = 0, n_in = 0, n_out = 0;
    return nnet_dataset_shape(ds, &rows, &n_in, &n_out) == NNET_OK && rows == r && n_in == i &&
           n_out == o;
}

int main(void) {
    const float NaN = nanf(""), INF = INFINITY;
    const size_t layers[3] = {2, 3, 1};
    NnetNetwork *net = NULL;
    if (nnet_network_new(layers, 3, NNET_OUTPUT_TANH, 1, 0.5f, &net) != NNET_OK) {
        fprintf(stderr, "cannot create the test network: %s\n", nnet_last_error());
        return 1;
    }
    const size_t D = nnet_network_num_weights(net); /* 13 */
    float w0[64];
    if (D > 64 || nnet_network_get_weights(net, w0, D) != NNET_OK) return 1;

    float x[8] = {-1, -1, -1, 1, 1, -1, 1, 1};
    float y[4] = {-1, 1, 1, -1};
    float bad_x[8], bad_y[4];
    float out[64];
    NnetNetwork *h = SENT_NET;

    /* ---------------------------------------------------------------- strings */
    INFALLIBLE(strcmp(nnet_status_string(12), "unknown status") == 0);
    INFALLIBLE(strcmp(nnet_status_string(UINT32_MAX), "unknown status") == 0);
    INFALLIBLE(nnet_version() != NULL && nnet_version()[0] != '\0');
    INFALLIBLE(nnet_isa() != NULL && nnet_isa()[0] != '\0');

    /* ---------------------------------------------------------------- nnet_network_new */
    {
        const size_t zero_mid[3] = {2, 0, 1}, zero_in[3] = {0, 3, 1}, one[1] = {4};
        const size_t huge_in[2] = {SIZE_MAX, 1}, overflow[2] = {SIZE_MAX / 2, 4};
        EXPECT(NUL, nnet_network_new(NULL, 3, NNET_OUTPUT_TANH, 1, 0.1f, &h), h == SENT_NET);
        EXPECT(NUL, nnet_network_new(layers, 3, NNET_OUTPUT_TANH, 1, 0.1f, NULL), 1);
        EXPECT(INV, nnet_network_new(layers, 0, NNET_OUTPUT_TANH, 1, 0.1f, &h), h == SENT_NET);
        EXPECT(INV, nnet_network_new(one, 1, NNET_OUTPUT_TANH, 1, 0.1f, &h), h == SENT_NET);
        EXPECT(INV, nnet_network_new(zero_mid, 3, NNET_OUTPUT_TANH, 1, 0.1f, &h), h == SENT_NET);
        EXPECT(INV, nnet_network_new(zero_in, 3, NNET_OUTPUT_TANH, 1, 0.1f, &h), h == SENT_NET);
        EXPECT(INV, nnet_network_new(layers, 3, 2, 1, 0.1f, &h), h == SENT_NET);
        EXPECT(INV, nnet_network_new(layers, 3, UINT32_MAX, 1, 0.1f, &h), h == SENT_NET);
        EXPECT(INV, nnet_network_new(layers, 3, NNET_OUTPUT_TANH, 1, NaN, &h), h == SENT_NET);
        EXPECT(INV, nnet_network_new(layers, 3, NNET_OUTPUT_TANH, 1, INF, &h), h == SENT_NET);
        EXPECT(INV, nnet_network_new(layers, 3, NNET_OUTPUT_TANH, 1, -INF, &h), h == SENT_NET);
        EXPECT(INV, nnet_network_new(layers, 3, NNET_OUTPUT_TANH, 1, -0.5f, &h), h == SENT_NET);
        EXPECT(OVER, nnet_network_new(huge_in, 2, NNET_OUTPUT_TANH, 1, 0.1f, &h), h == SENT_NET);
        EXPECT(OVER, nnet_network_new(overflow, 2, NNET_OUTPUT_TANH, 1, 0.1f, &h), h == SENT_NET);
        EXPECT(OVER, nnet_network_new(layers, SIZE_MAX, NNET_OUTPUT_TANH, 1, 0.1f, &h),
               h == SENT_NET);
#if SIZE_MAX > 0xFFFFFFFFu
        /* 2^28-2^28-2^28: 2^57 weights, more bytes than any address space: a clean error */
        const size_t absurd[3] = {(size_t)1 << 28, (size_t)1 << 28, (size_t)1 << 28};
        EXPECT(OOM, nnet_network_new(absurd, 3, NNET_OUTPUT_TANH, 1, 0.1f, &h), h == SENT_NET);
#endif
    }

    /* ---------------------------------------------------------------- handles and getters */
    EXPECT(NUL, nnet_network_clone(NULL, &h), h == SENT_NET);
    EXPECT(NUL, nnet_network_clone(net, NULL), 1);
    INFALLIBLE(nnet_network_num_weights(NULL) == 0);
    INFALLIBLE(nnet_network_num_layer_sizes(NULL) == 0);
    INFALLIBLE(nnet_network_num_inputs(NULL) == 0);
    INFALLIBLE(nnet_network_num_outputs(NULL) == 0);
    INFALLIBLE(nnet_network_isa(NULL) == NULL);
    nnet_network_free(NULL);
    nnet_buffer_free(NULL, 0);
    nnet_buffer_free(NULL, 100);
    INFALLIBLE(1); /* the three NULL frees above returned */
    {
        size_t sizes[4] = {7, 7, 7, 7};
        int keep_sizes;
#define SIZES_KEPT (sizes[0] == 7 && sizes[1] == 7 && sizes[2] == 7 && sizes[3] == 7)
        EXPECT(NUL, nnet_network_layers(NULL, sizes, 3), SIZES_KEPT);
        EXPECT(NUL, nnet_network_layers(net, NULL, 3), SIZES_KEPT);
        EXPECT(SHAPE, nnet_network_layers(net, sizes, 2), SIZES_KEPT);
        EXPECT(SHAPE, nnet_network_layers(net, sizes, 4), SIZES_KEPT);
        EXPECT(SHAPE, nnet_network_layers(net, sizes, 0), SIZES_KEPT);
        EXPECT(SHAPE, nnet_network_layers(net, sizes, SIZE_MAX), SIZES_KEPT);
        keep_sizes = SIZES_KEPT;
        require(keep_sizes, "sizes", __LINE__);
        uint32_t kind = 0xDEADBEEFu;
        EXPECT(NUL, nnet_network_output(NULL, &kind), kind == 0xDEADBEEFu);
        EXPECT(NUL, nnet_network_output(net, NULL), 1);
    }

    /* ---------------------------------------------------------------- get/set weights */
    fill(out, 64);
    EXPECT(NUL, nnet_network_get_weights(NULL, out, D), untouched(out, 64));
    EXPECT(NUL, nnet_network_get_weights(net, NULL, D), untouched(out, 64));
    EXPECT(SHAPE, nnet_network_get_weights(net, out, D - 1), untouched(out, 64));
    EXPECT(SHAPE, nnet_network_get_weights(net, out, D + 1), untouched(out, 64));
    EXPECT(SHAPE, nnet_network_get_weights(net, out, 0), untouched(out, 64));
    EXPECT(SHAPE, nnet_network_get_weights(net, out, SIZE_MAX), untouched(out, 64));
    {
        float w[64];
        memcpy(w, w0, D * sizeof(float));
        for (size_t i = 0; i < D; i++) w[i] += 0.25f;
        EXPECT(NUL, nnet_network_set_weights(NULL, w, D), weights_are(net, w0, D));
        EXPECT(NUL, nnet_network_set_weights(net, NULL, D), weights_are(net, w0, D));
        EXPECT(SHAPE, nnet_network_set_weights(net, w, D - 1), weights_are(net, w0, D));
        EXPECT(SHAPE, nnet_network_set_weights(net, w, D + 1), weights_are(net, w0, D));
        EXPECT(SHAPE, nnet_network_set_weights(net, w, 0), weights_are(net, w0, D));
        EXPECT(SHAPE, nnet_network_set_weights(net, w, SIZE_MAX), weights_are(net, w0, D));
        const float bad[3] = {NaN, INF, -INF};
        const size_t where[3] = {5, 0, 12};
        for (int b = 0; b < 3; b++) {
            float saved = w[where[b]];
            w[where[b]] = bad[b];
            EXPECT(NONFIN, nnet_network_set_weights(net, w, D), weights_are(net, w0, D));
            w[where[b]] = saved;
        }
    }

    /* ---------------------------------------------------------------- per-network ISA */
    {
        const char *before = nnet_network_isa(net);
        const char *missing = strcmp(nnet_isa(), "neon") == 0 ? "avx2" : "neon";
        EXPECT(NUL, nnet_network_set_isa(NULL, "scalar"), 1);
        EXPECT(NUL, nnet_network_set_isa(net, NULL), nnet_network_isa(net) == before);
        EXPECT(INV, nnet_network_set_isa(net, ""), nnet_network_isa(net) == before);
        EXPECT(INV, nnet_network_set_isa(net, "sse9"), nnet_network_isa(net) == before);
        EXPECT(INV, nnet_network_set_isa(net, missing), nnet_network_isa(net) == before);
    }

    /* ---------------------------------------------------------------- scaling */
    {
        float ref[4], now[4];
        if (nnet_predict(net, x, 4, 2, ref, 1) != NNET_OK) return 1;
        INFALLIBLE(nnet_last_error() == NULL); /* a success clears the message */
#define SAME_PREDICTIONS \
    (nnet_predict(net, x, 4, 2, now, 1) == NNET_OK && memcmp(now, ref, sizeof ref) == 0)
        memcpy(bad_x, x, sizeof x);
        bad_x[3] = NaN;
        memcpy(bad_y, y, sizeof y);
        bad_y[1] = INF;
        EXPECT(NUL, nnet_network_fit_scaling(NULL, x, 4, 2, y, 1), 1);
        EXPECT(NUL, nnet_network_fit_scaling(net, NULL, 4, 2, y, 1), SAME_PREDICTIONS);
        EXPECT(INV, nnet_network_fit_scaling(net, x, 0, 2, y, 1), SAME_PREDICTIONS);
        EXPECT(SHAPE, nnet_network_fit_scaling(net, x, 4, 3, y, 1), SAME_PREDICTIONS);
        EXPECT(SHAPE, nnet_network_fit_scaling(net, x, 4, 2, y, 2), SAME_PREDICTIONS);
        EXPECT(SHAPE, nnet_network_fit_scaling(net, x, 4, 2, NULL, 0), SAME_PREDICTIONS);
        EXPECT(NONFIN, nnet_network_fit_scaling(net, bad_x, 4, 2, y, 1), SAME_PREDICTIONS);
        EXPECT(NONFIN, nnet_network_fit_scaling(net, x, 4, 2, bad_y, 1), SAME_PREDICTIONS);
        EXPECT(OVER, nnet_network_fit_scaling(net, x, SIZE_MAX, 2, y, 1), SAME_PREDICTIONS);
        EXPECT(OVER, nnet_network_fit_scaling(net, x, SIZE_MAX / 2 + 1, 2, y, 1),
               SAME_PREDICTIONS);
        EXPECT(NUL, nnet_network_clear_scaling(NULL), 1);
    }

    /* ---------------------------------------------------------------- predict / classify */
    memcpy(bad_x, x, sizeof x);
    fill(out, 64);
    EXPECT(NUL, nnet_predict(NULL, x, 4, 2, out, 1), untouched(out, 64));
    EXPECT(NUL, nnet_predict(net, NULL, 4, 2, out, 1), untouched(out, 64));
    EXPECT(NUL, nnet_predict(net, x, 4, 2, NULL, 1), untouched(out, 64));
    EXPECT(INV, nnet_predict(net, x, 0, 2, out, 1), untouched(out, 64));
    EXPECT(SHAPE, nnet_predict(net, x, 4, 1, out, 1), untouched(out, 64));
    EXPECT(SHAPE, nnet_predict(net, x, 4, 3, out, 1), untouched(out, 64));
    EXPECT(SHAPE, nnet_predict(net, x, 4, 0, out, 1), untouched(out, 64));
    EXPECT(SHAPE, nnet_predict(net, x, 4, 2, out, 0), untouched(out, 64));
    EXPECT(SHAPE, nnet_predict(net, x, 4, 2, out, 2), untouched(out, 64));
    EXPECT(OVER, nnet_predict(net, x, SIZE_MAX, 2, out, 1), untouched(out, 64));
    EXPECT(OVER, nnet_predict(net, x, SIZE_MAX / 2, 2, out, 1), untouched(out, 64));
    EXPECT(OVER, nnet_predict(net, x, SIZE_MAX / 4, 2, out, 1), untouched(out, 64));
    {
        const float bad[3] = {NaN, INF, -INF};
        for (int b = 0; b < 3; b++) {
            bad_x[2 * b + 1] = bad[b];
            EXPECT(NONFIN, nnet_predict(net, bad_x, 4, 2, out, 1), untouched(out, 64));
            bad_x[2 * b + 1] = x[2 * b + 1];
        }
    }
    {
        /* an output overlapping the input */
        float both[16];
        memcpy(both, x, sizeof x);
        EXPECT(INV, nnet_predict(net, both, 4, 2, both, 1), memcmp(both, x, sizeof x) == 0);
        EXPECT(INV, nnet_predict(net, both, 4, 2, both + 7, 1), memcmp(both, x, sizeof x) == 0);
    }
    EXPECT(NUL, nnet_classify(NULL, x, 4, 2, out, 4), untouched(out, 64));
    EXPECT(NUL, nnet_classify(net, NULL, 4, 2, out, 4), untouched(out, 64));
    EXPECT(NUL, nnet_classify(net, x, 4, 2, NULL, 4), untouched(out, 64));
    EXPECT(INV, nnet_classify(net, x, 0, 2, out, 0), untouched(out, 64));
    EXPECT(SHAPE, nnet_classify(net, x, 4, 2, out, 3), untouched(out, 64));
    EXPECT(SHAPE, nnet_classify(net, x, 4, 2, out, 5), untouched(out, 64));
    EXPECT(SHAPE, nnet_classify(net, x, 4, 3, out, 4), untouched(out, 64));
    EXPECT(OVER, nnet_classify(net, x, SIZE_MAX, 2, out, SIZE_MAX), untouched(out, 64));
    bad_x[6] = NaN;
    EXPECT(NONFIN, nnet_classify(net, bad_x, 4, 2, out, 4), untouched(out, 64));
    bad_x[6] = x[6];

    /* ---------------------------------------------------------------- error */
    {
        double e = -7.0;
        memcpy(bad_y, y, sizeof y);
        bad_y[2] = NaN;
        bad_x[0] = INF;
        EXPECT(NUL, nnet_error(NULL, x, y, 4, 2, 1, &e), e == -7.0);
        EXPECT(NUL, nnet_error(net, NULL, y, 4, 2, 1, &e), e == -7.0);
        EXPECT(NUL, nnet_error(net, x, NULL, 4, 2, 1, &e), e == -7.0);
        EXPECT(NUL, nnet_error(net, x, y, 4, 2, 1, NULL), e == -7.0);
        EXPECT(INV, nnet_error(net, x, y, 0, 2, 1, &e), e == -7.0);
        EXPECT(SHAPE, nnet_error(net, x, y, 4, 3, 1, &e), e == -7.0);
        EXPECT(SHAPE, nnet_error(net, x, y, 4, 2, 2, &e), e == -7.0);
        EXPECT(OVER, nnet_error(net, x, y, SIZE_MAX, 2, 1, &e), e == -7.0);
        EXPECT(NONFIN, nnet_error(net, bad_x, y, 4, 2, 1, &e), e == -7.0);
        EXPECT(NONFIN, nnet_error(net, x, bad_y, 4, 2, 1, &e), e == -7.0);
        bad_x[0] = x[0];
    }

    /* ---------------------------------------------------------------- gradient */
    {
        double loss = -7.0;
        NnetRegularization ok = nnet_regularization_default();
        fill(out, 64);
#define G_KEPT (untouched(out, 64) && loss == -7.0)
        EXPECT(NUL, nnet_gradient(NULL, NULL, x, y, 4, 2, 1, out, D, &loss), G_KEPT);
        EXPECT(NUL, nnet_gradient(net, NULL, NULL, y, 4, 2, 1, out, D, &loss), G_KEPT);
        EXPECT(NUL, nnet_gradient(net, NULL, x, NULL, 4, 2, 1, out, D, &loss), G_KEPT);
        EXPECT(NUL, nnet_gradient(net, &ok, x, y, 4, 2, 1, NULL, D, &loss), G_KEPT);
        EXPECT(INV, nnet_gradient(net, &ok, x, y, 0, 2, 1, out, D, &loss), G_KEPT);
        EXPECT(SHAPE, nnet_gradient(net, &ok, x, y, 4, 3, 1, out, D, &loss), G_KEPT);
        EXPECT(SHAPE, nnet_gradient(net, &ok, x, y, 4, 2, 2, out, D, &loss), G_KEPT);
        EXPECT(SHAPE, nnet_gradient(net, &ok, x, y, 4, 2, 1, out, D - 1, &loss), G_KEPT);
        EXPECT(SHAPE, nnet_gradient(net, &ok, x, y, 4, 2, 1, out, D + 1, &loss), G_KEPT);
        EXPECT(SHAPE, nnet_gradient(net, &ok, x, y, 4, 2, 1, out, SIZE_MAX, &loss), G_KEPT);
        EXPECT(OVER, nnet_gradient(net, &ok, x, y, SIZE_MAX, 2, 1, out, D, &loss), G_KEPT);
        bad_x[5] = NaN;
        EXPECT(NONFIN, nnet_gradient(net, &ok, bad_x, y, 4, 2, 1, out, D, &loss), G_KEPT);
        bad_x[5] = x[5];
        bad_y[2] = -INF;
        EXPECT(NONFIN, nnet_gradient(net, &ok, x, bad_y, 4, 2, 1, out, D, &loss), G_KEPT);
        NnetRegularization r;
        const uint32_t bad_kind[2] = {4, UINT32_MAX};
        for (int i = 0; i < 2; i++) {
            r = ok, r.kind = bad_kind[i];
            EXPECT(INV, nnet_gradient(net, &r, x, y, 4, 2, 1, out, D, &loss), G_KEPT);
        }
        const float bad_lambda[4] = {-1.0f, NaN, INF, -INF};
        for (int i = 0; i < 4; i++) {
            r = ok, r.kind = NNET_REG_L2, r.lambda = bad_lambda[i];
            EXPECT(INV, nnet_gradient(net, &r, x, y, 4, 2, 1, out, D, &loss), G_KEPT);
        }
        const float bad_w0[5] = {0.0f, -1.0f, NaN, INF, -0.0f};
        for (int i = 0; i < 5; i++) {
            r = ok, r.kind = NNET_REG_WEIGHT_ELIMINATION, r.lambda = 0.1f, r.w0 = bad_w0[i];
            EXPECT(INV, nnet_gradient(net, &r, x, y, 4, 2, 1, out, D, &loss), G_KEPT);
        }
        const uint8_t bad_flag[2] = {2, 255};
        for (int i = 0; i < 2; i++) {
            r = ok, r.include_bias = bad_flag[i];
            EXPECT(INV, nnet_gradient(net, &r, x, y, 4, 2, 1, out, D, &loss), G_KEPT);
        }
        /* the gradient buffer overlapping the inputs */
        float both[32];
        memcpy(both, x, sizeof x);
        EXPECT(INV, nnet_gradient(net, &ok, both, y, 4, 2, 1, both, D, &loss),
               memcmp(both, x, sizeof x) == 0 && loss == -7.0);
    }

    /* ---------------------------------------------------------------- train */
    {
        NnetTrainConfig good = nnet_train_config_default();
        good.learning_rate = 0.1f;
        good.epochs = 5;
        good.on_epoch = count_epochs;
        NnetTrainConfig c;
        NnetTrainReport rep, sent_rep;
        memset(&sent_rep, 0xA5, sizeof sent_rep);
        rep = sent_rep;
        callback_calls = 0;
#define T_KEPT \
    (weights_are(net, w0, D) && memcmp(&rep, &sent_rep, sizeof rep) == 0 && callback_calls == 0)
        EXPECT(NUL, nnet_train(NULL, &good, x, y, 4, 2, 1, NULL, NULL, 0, &rep), T_KEPT);
        EXPECT(NUL, nnet_train(net, NULL, x, y, 4, 2, 1, NULL, NULL, 0, &rep), T_KEPT);
        EXPECT(NUL, nnet_train(net, &good, NULL, y, 4, 2, 1, NULL, NULL, 0, &rep), T_KEPT);
        EXPECT(NUL, nnet_train(net, &good, x, NULL, 4, 2, 1, NULL, NULL, 0, &rep), T_KEPT);
        EXPECT(NUL, nnet_train(net, &good, x, y, 4, 2, 1, NULL, y, 2, &rep), T_KEPT);
        EXPECT(NUL, nnet_train(net, &good, x, y, 4, 2, 1, x, NULL, 2, &rep), T_KEPT);
        EXPECT(INV, nnet_train(net, &good, x, y, 0, 2, 1, NULL, NULL, 0, &rep), T_KEPT);
        EXPECT(SHAPE, nnet_train(net, &good, x, y, 4, 3, 1, NULL, NULL, 0, &rep), T_KEPT);
        EXPECT(SHAPE, nnet_train(net, &good, x, y, 4, 2, 2, NULL, NULL, 0, &rep), T_KEPT);
        EXPECT(OVER, nnet_train(net, &good, x, y, SIZE_MAX, 2, 1, NULL, NULL, 0, &rep), T_KEPT);
        EXPECT(OVER, nnet_train(net, &good, x, y, 4, 2, 1, x, y, SIZE_MAX, &rep), T_KEPT);
        bad_x[1] = NaN;
        EXPECT(NONFIN, nnet_train(net, &good, bad_x, y, 4, 2, 1, NULL, NULL, 0, &rep), T_KEPT);
        EXPECT(NONFIN, nnet_train(net, &good, x, y, 4, 2, 1, bad_x, y, 4, &rep), T_KEPT);
        bad_x[1] = x[1];
        bad_y[0] = INF;
        EXPECT(NONFIN, nnet_train(net, &good, x, bad_y, 4, 2, 1, NULL, NULL, 0, &rep), T_KEPT);
        const float bad_rate[5] = {0.0f, -0.1f, NaN, INF, -INF};
        for (int i = 0; i < 5; i++) {
            c = good, c.learning_rate = bad_rate[i];
            EXPECT(INV, nnet_train(net, &c, x, y, 4, 2, 1, NULL, NULL, 0, &rep), T_KEPT);
        }
        c = good, c.epochs = 0;
        EXPECT(INV, nnet_train(net, &c, x, y, 4, 2, 1, NULL, NULL, 0, &rep), T_KEPT);
        c = good, c.batch_size = 0;
        EXPECT(INV, nnet_train(net, &c, x, y, 4, 2, 1, NULL, NULL, 0, &rep), T_KEPT);
        const uint32_t bad_order[2] = {3, UINT32_MAX};
        for (int i = 0; i < 2; i++) {
            c = good, c.order = bad_order[i];
            EXPECT(INV, nnet_train(net, &c, x, y, 4, 2, 1, NULL, NULL, 0, &rep), T_KEPT);
        }
        c = good, c.regularization.kind = 9;
        EXPECT(INV, nnet_train(net, &c, x, y, 4, 2, 1, NULL, NULL, 0, &rep), T_KEPT);
        c = good, c.regularization.kind = NNET_REG_L1, c.regularization.lambda = -0.5f;
        EXPECT(INV, nnet_train(net, &c, x, y, 4, 2, 1, NULL, NULL, 0, &rep), T_KEPT);
        c = good, c.regularization.kind = NNET_REG_L2, c.regularization.lambda = NaN;
        EXPECT(INV, nnet_train(net, &c, x, y, 4, 2, 1, NULL, NULL, 0, &rep), T_KEPT);
        c = good, c.regularization.w0 = 0.0f;
        EXPECT(INV, nnet_train(net, &c, x, y, 4, 2, 1, NULL, NULL, 0, &rep), T_KEPT);
        c = good, c.regularization.include_bias = 7;
        EXPECT(INV, nnet_train(net, &c, x, y, 4, 2, 1, NULL, NULL, 0, &rep), T_KEPT);
        const float bad_range[3] = {-1.0f, NaN, INF};
        for (int i = 0; i < 3; i++) {
            c = good, c.init_range = bad_range[i];
            EXPECT(INV, nnet_train(net, &c, x, y, 4, 2, 1, NULL, NULL, 0, &rep), T_KEPT);
        }
        /* optimizer and schedule values, every one checked before anything changes */
        c = good, c.optimizer.kind = 6;
        EXPECT(INV, nnet_train(net, &c, x, y, 4, 2, 1, NULL, NULL, 0, &rep), T_KEPT);
        c = good, c.optimizer.kind = UINT32_MAX;
        EXPECT(INV, nnet_train(net, &c, x, y, 4, 2, 1, NULL, NULL, 0, &rep), T_KEPT);
        const float bad_mu[4] = {1.0f, -0.1f, NaN, INF};
        for (int i = 0; i < 4; i++) {
            c = good, c.optimizer.kind = NNET_OPT_MOMENTUM, c.optimizer.momentum = bad_mu[i];
            EXPECT(INV, nnet_train(net, &c, x, y, 4, 2, 1, NULL, NULL, 0, &rep), T_KEPT);
            c = good, c.optimizer.kind = NNET_OPT_NESTEROV, c.optimizer.momentum = bad_mu[i];
            EXPECT(INV, nnet_train(net, &c, x, y, 4, 2, 1, NULL, NULL, 0, &rep), T_KEPT);
            c = good, c.optimizer.kind = NNET_OPT_ADAM, c.optimizer.beta1 = bad_mu[i];
            EXPECT(INV, nnet_train(net, &c, x, y, 4, 2, 1, NULL, NULL, 0, &rep), T_KEPT);
            c = good, c.optimizer.kind = NNET_OPT_ADAMW, c.optimizer.beta2 = bad_mu[i];
            EXPECT(INV, nnet_train(net, &c, x, y, 4, 2, 1, NULL, NULL, 0, &rep), T_KEPT);
        }
        c = good, c.optimizer.kind = NNET_OPT_ADAM, c.optimizer.eps = 0.0f;
        EXPECT(INV, nnet_train(net, &c, x, y, 4, 2, 1, NULL, NULL, 0, &rep), T_KEPT);
        c = good, c.optimizer.kind = NNET_OPT_ADAMW, c.optimizer.weight_decay = -0.1f;
        EXPECT(INV, nnet_train(net, &c, x, y, 4, 2, 1, NULL, NULL, 0, &rep), T_KEPT);
        c = good, c.optimizer.kind = NNET_OPT_RPROP, c.batch_size = 4, c.optimizer.rprop_increase = 1.0f;
        EXPECT(INV, nnet_train(net, &c, x, y, 4, 2, 1, NULL, NULL, 0, &rep), T_KEPT);
        c = good, c.optimizer.kind = NNET_OPT_RPROP, c.batch_size = 4, c.optimizer.rprop_decrease = 1.0f;
        EXPECT(INV, nnet_train(net, &c, x, y, 4, 2, 1, NULL, NULL, 0, &rep), T_KEPT);
        c = good, c.optimizer.kind = NNET_OPT_RPROP, c.batch_size = 4, c.optimizer.rprop_delta0 = 0.0f;
        EXPECT(INV, nnet_train(net, &c, x, y, 4, 2, 1, NULL, NULL, 0, &rep), T_KEPT);
        c = good, c.optimizer.kind = NNET_OPT_RPROP, c.batch_size = 4, c.optimizer.rprop_delta_max = 0.01f;
        EXPECT(INV, nnet_train(net, &c, x, y, 4, 2, 1, NULL, NULL, 0, &rep), T_KEPT);
        /* iRPROP- is full-batch: a batch below the 4 rows is an error */
        c = good, c.optimizer.kind = NNET_OPT_RPROP, c.batch_size = 2;
        EXPECT(INV, nnet_train(net, &c, x, y, 4, 2, 1, NULL, NULL, 0, &rep), T_KEPT);
        c = good, c.schedule.kind = 5;
        EXPECT(INV, nnet_train(net, &c, x, y, 4, 2, 1, NULL, NULL, 0, &rep), T_KEPT);
        c = good, c.schedule.kind = NNET_SCHEDULE_STEP, c.schedule.step_epochs = 0;
        EXPECT(INV, nnet_train(net, &c, x, y, 4, 2, 1, NULL, NULL, 0, &rep), T_KEPT);
        c = good, c.schedule.kind = NNET_SCHEDULE_EXPONENTIAL, c.schedule.gamma = 1.5f;
        EXPECT(INV, nnet_train(net, &c, x, y, 4, 2, 1, NULL, NULL, 0, &rep), T_KEPT);
        c = good, c.schedule.kind = NNET_SCHEDULE_INVERSE_TIME, c.schedule.decay = -1.0f;
        EXPECT(INV, nnet_train(net, &c, x, y, 4, 2, 1, NULL, NULL, 0, &rep), T_KEPT);
        c = good, c.schedule.kind = NNET_SCHEDULE_COSINE, c.schedule.eta_min = 2.0f * c.learning_rate;
        EXPECT(INV, nnet_train(net, &c, x, y, 4, 2, 1, NULL, NULL, 0, &rep), T_KEPT);

        /* checkpoints: a zero interval, an empty path, a directory that does not exist, a path
         * that is a directory, resuming without a path, a damaged file, another run's file */
        {
            const char *tmp = getenv("TMPDIR");
            char ck[512], junk[600];
            snprintf(ck, sizeof ck, "%s/nnet-bad-input-%ld.ckpt", tmp ? tmp : "/tmp", (long)getpid());
            snprintf(junk, sizeof junk, "%s.junk", ck);
            c = good, c.checkpoint_every = 0;
            EXPECT(INV, nnet_train(net, &c, x, y, 4, 2, 1, NULL, NULL, 0, &rep), T_KEPT);
            EXPECT(INV, nnet_train_resume(net, &c, x, y, 4, 2, 1, NULL, NULL, 0, &rep), T_KEPT);
            c.checkpoint_path = ck;
            EXPECT(INV, nnet_train(net, &c, x, y, 4, 2, 1, NULL, NULL, 0, &rep), T_KEPT);
            c = good, c.checkpoint_path = "";
            EXPECT(INV, nnet_train(net, &c, x, y, 4, 2, 1, NULL, NULL, 0, &rep), T_KEPT);
            EXPECT(INV, nnet_train_resume(net, &c, x, y, 4, 2, 1, NULL, NULL, 0, &rep), T_KEPT);
            c = good, c.checkpoint_path = "/nonexistent-nnet-dir/sub/run.ckpt";
            EXPECT(IO, nnet_train(net, &c, x, y, 4, 2, 1, NULL, NULL, 0, &rep), T_KEPT);
            EXPECT(IO, nnet_train_resume(net, &c, x, y, 4, 2, 1, NULL, NULL, 0, &rep), T_KEPT);
            c = good, c.checkpoint_path = tmp ? tmp : "/tmp";
            EXPECT(IO, nnet_train(net, &c, x, y, 4, 2, 1, NULL, NULL, 0, &rep), T_KEPT);
            c = good;
            EXPECT(INV, nnet_train_resume(net, &c, x, y, 4, 2, 1, NULL, NULL, 0, &rep), T_KEPT);
            EXPECT(NUL, nnet_train_resume(NULL, &c, x, y, 4, 2, 1, NULL, NULL, 0, &rep), T_KEPT);
            EXPECT(NUL, nnet_train_resume(net, NULL, x, y, 4, 2, 1, NULL, NULL, 0, &rep), T_KEPT);
            EXPECT(NUL, nnet_train_resume(net, &c, NULL, y, 4, 2, 1, NULL, NULL, 0, &rep), T_KEPT);
            FILE *f = fopen(junk, "wb");
            if (f) {
                fputs("this is not a checkpoint", f);
                fclose(f);
                c = good, c.checkpoint_path = junk;
                EXPECT(FMT, nnet_train_resume(net, &c, x, y, 4, 2, 1, NULL, NULL, 0, &rep), T_KEPT);
                remove(junk);
            } else {
                fail(__LINE__, "fopen", "cannot write the junk checkpoint");
            }
            /* a run with seed 1 stopped after 2 epochs; resuming it with seed 2 is refused */
            NnetNetwork *other = NULL;
            if (nnet_network_clone(net, &other) != NNET_OK) return 1;
            c = good, c.checkpoint_path = ck, c.seed = 1, c.on_epoch = stop_at_2;
            callback_calls = 0;
            cases++;
            require(nnet_train(other, &c, x, y, 4, 2, 1, NULL, NULL, 0, &rep) == NNET_ERR_STOPPED,
                    "a stopped run writes its checkpoint", __LINE__);
            nnet_network_free(other);
            rep = sent_rep, callback_calls = 0;
            c.seed = 2, c.on_epoch = count_epochs;
            EXPECT(INV, nnet_train_resume(net, &c, x, y, 4, 2, 1, NULL, NULL, 0, &rep),
                   nnet_last_error() && strstr(nnet_last_error(), "`seed`") && T_KEPT);
            remove(ck);
        }

        /* divergence: a non-OK status, finite weights, the report not written */
        NnetNetwork *lin = NULL;
        const float big_y[4] = {1e30f, -1e30f, 1e30f, -1e30f};
        const size_t lin_layers[3] = {2, 3, 1};
        if (nnet_network_new(lin_layers, 3, NNET_OUTPUT_LINEAR, 2, 0.5f, &lin) != NNET_OK) return 1;
        c = good, c.learning_rate = 1e30f, c.on_epoch = NULL;
        EXPECT(NNET_ERR_DIVERGED, nnet_train(lin, &c, x, big_y, 4, 2, 1, NULL, NULL, 0, &rep),
               memcmp(&rep, &sent_rep, sizeof rep) == 0 && nnet_predict(lin, x, 4, 2, out, 1) == OK &&
                   isfinite(out[0]) && isfinite(out[3]));
        nnet_network_free(lin);

        /* stopped by the callback: a non-OK status, the report written */
        NnetNetwork *copy = NULL;
        if (nnet_network_clone(net, &copy) != NNET_OK) return 1;
        c = good, c.on_epoch = stop_at_2;
        callback_calls = 0;
        EXPECT(NNET_ERR_STOPPED, nnet_train(copy, &c, x, y, 4, 2, 1, NULL, NULL, 0, &rep),
               callback_calls == 2 && rep.epochs_run == 2 && rep.best_epoch == 2 &&
                   !weights_are(copy, w0, D) && weights_are(net, w0, D));
        nnet_network_free(copy);
    }

    /* ---------------------------------------------------------------- files */
    {
        const char *tmp = getenv("TMPDIR");
        char path[512], garbage[600];
        snprintf(path, sizeof path, "%s/nnet-bad-input-%ld.nnet", tmp ? tmp : "/tmp", (long)getpid());
        snprintf(garbage, sizeof garbage, "%s.garbage", path);
        EXPECT(NUL, nnet_save(NULL, path), 1);
        EXPECT(NUL, nnet_save(net, NULL), 1);
        EXPECT(INV, nnet_save(net, ""), 1);
        EXPECT(IO, nnet_save(net, "/nonexistent-nnet-dir/sub/model.nnet"), 1);
        EXPECT(NUL, nnet_load(NULL, &h), h == SENT_NET);
        EXPECT(NUL, nnet_load(path, NULL), 1);
        EXPECT(INV, nnet_load("", &h), h == SENT_NET);
        EXPECT(IO, nnet_load("/nonexistent-nnet-dir/model.nnet", &h), h == SENT_NET);
        FILE *f = fopen(garbage, "wb");
        if (f) {
            fputs("this is not a model file", f);
            fclose(f);
            EXPECT(FMT, nnet_load(garbage, &h), h == SENT_NET);
            /* a saved model cut in half */
            uint8_t *buf = NULL;
            size_t len = 0;
            if (nnet_save_to_buffer(net, &buf, &len) == NNET_OK && (f = fopen(garbage, "wb"))) {
                fwrite(buf, 1, len / 2, f);
                fclose(f);
                EXPECT(FMT, nnet_load(garbage, &h), h == SENT_NET);
            }
            nnet_buffer_free(buf, len);
            remove(garbage);
        } else {
            fail(__LINE__, garbage, "cannot create a scratch file");
        }
    }

    /* ---------------------------------------------------------------- data-set loaders */
    {
        const char *tmp = getenv("TMPDIR");
        snprintf(scratch_dir, sizeof scratch_dir, "%s/nnet-bad-input-XXXXXX", tmp ? tmp : "/tmp");
        if (!mkdtemp(scratch_dir)) {
            scratch_dir[0] = '\0';
            fail(__LINE__, "mkdtemp", "cannot create a scratch folder");
        }
        /* well-formed files first: they load, so the rejections below are about the damage */
        const char *csv = put_text("ok.csv", "a,b,target\n0.5,1,0\n1.5,2,2\n-1,3,1\n");
        const char *fann = put_text("ok.data", "3 2 1\n0 0\n-1\n0 1\n1\n1 1\n-1\n");
        const uint32_t img_dims[3] = {3, 2, 2}, lab_dims[1] = {3};
        const uint8_t pixels[12] = {0, 255, 51, 102, 1, 2, 3, 4, 255, 255, 0, 0};
        const uint8_t labs[3] = {2, 0, 1};
        const char *img = put_idx("ok-images.idx", img_dims, 3, pixels, 12);
        const char *lab = put_idx("ok-labels.idx", lab_dims, 1, labs, 3);
        if (!csv || !fann || !img || !lab) {
            fail(__LINE__, scratch_dir, "cannot write the scratch files");
            remove_scratch();
            printf("bad_input: %d cases, %d failures (kernels %s)\nFAIL\n", cases, failures,
                   nnet_isa());
            return 1;
        }
        NnetDataset *good = NULL, *plain = NULL, *digits = NULL;
        INFALLIBLE(nnet_dataset_load_csv(csv, "target", NNET_TARGETS_ONE_HOT, 0, &good) == OK &&
                   shape_is(good, 3, 2, 3) && nnet_dataset_num_classes(good) == 3);
        INFALLIBLE(nnet_dataset_load_fann(fann, &plain) == OK && shape_is(plain, 3, 2, 1) &&
                   nnet_dataset_num_classes(plain) == 0);
        INFALLIBLE(nnet_dataset_load_idx(img, lab, 0, &digits) == OK && shape_is(digits, 3, 4, 3));
        nnet_dataset_free(digits);
        const size_t col2[1] = {2}, col9[1] = {9}, dup[2] = {0, 0}, two[2] = {0, 1};
        const char *missing = "/nonexistent-nnet-dir/data.csv";
        const char *not_utf8 = "data\xff.csv";

        /* NULL, empty and non-UTF-8 strings, NULL out pointers, missing files */
        NnetDataset *d = SENT_DS;
        EXPECT(NUL, nnet_dataset_load_csv(NULL, "target", 0, 0, &d), d == SENT_DS);
        EXPECT(NUL, nnet_dataset_load_csv(csv, NULL, 0, 0, &d), d == SENT_DS);
        EXPECT(NUL, nnet_dataset_load_csv(csv, "target", 0, 0, NULL), 1);
        EXPECT(INV, nnet_dataset_load_csv("", "target", 0, 0, &d), d == SENT_DS);
        EXPECT(INV, nnet_dataset_load_csv(csv, "", 0, 0, &d), d == SENT_DS);
        EXPECT(INV, nnet_dataset_load_csv(not_utf8, "target", 0, 0, &d), d == SENT_DS);
        EXPECT(INV, nnet_dataset_load_csv(csv, "targ\xe9t", 0, 0, &d), d == SENT_DS);
        EXPECT(IO, nnet_dataset_load_csv(missing, "target", 0, 0, &d), d == SENT_DS);
        EXPECT(IO, nnet_dataset_load_csv(scratch_dir, "target", 0, 0, &d), d == SENT_DS);
        EXPECT(NUL, nnet_dataset_load_csv_columns(NULL, col2, 1, 0, 0, &d), d == SENT_DS);
        EXPECT(NUL, nnet_dataset_load_csv_columns(csv, NULL, 1, 0, 0, &d), d == SENT_DS);
        EXPECT(NUL, nnet_dataset_load_csv_columns(csv, col2, 1, 0, 0, NULL), 1);
        EXPECT(INV, nnet_dataset_load_csv_columns(not_utf8, col2, 1, 0, 0, &d), d == SENT_DS);
        EXPECT(IO, nnet_dataset_load_csv_columns(missing, col2, 1, 0, 0, &d), d == SENT_DS);
        EXPECT(NUL, nnet_dataset_load_fann(NULL, &d), d == SENT_DS);
        EXPECT(NUL, nnet_dataset_load_fann(fann, NULL), 1);
        EXPECT(INV, nnet_dataset_load_fann("", &d), d == SENT_DS);
        EXPECT(INV, nnet_dataset_load_fann(not_utf8, &d), d == SENT_DS);
        EXPECT(IO, nnet_dataset_load_fann("/nonexistent-nnet-dir/x.data", &d), d == SENT_DS);
        EXPECT(NUL, nnet_dataset_load_idx(NULL, lab, 0, &d), d == SENT_DS);
        EXPECT(NUL, nnet_dataset_load_idx(img, NULL, 0, &d), d == SENT_DS);
        EXPECT(NUL, nnet_dataset_load_idx(img, lab, 0, NULL), 1);
        EXPECT(INV, nnet_dataset_load_idx("", lab, 0, &d), d == SENT_DS);
        EXPECT(INV, nnet_dataset_load_idx(img, not_utf8, 0, &d), d == SENT_DS);
        EXPECT(IO, nnet_dataset_load_idx("/nonexistent-nnet-dir/img", lab, 0, &d), d == SENT_DS);
        EXPECT(IO, nnet_dataset_load_idx(img, "/nonexistent-nnet-dir/lab", 0, &d), d == SENT_DS);

        /* enum values, class counts and target columns */
        const uint32_t bad_mode[3] = {3, 100, UINT32_MAX};
        for (int i = 0; i < 3; i++) {
            EXPECT(INV, nnet_dataset_load_csv(csv, "target", bad_mode[i], 0, &d), d == SENT_DS);
            EXPECT(INV, nnet_dataset_load_csv_columns(csv, col2, 1, bad_mode[i], 0, &d),
                   d == SENT_DS);
        }
        EXPECT(INV, nnet_dataset_load_csv(csv, "target", NNET_TARGETS_VALUES, 3, &d), d == SENT_DS);
        EXPECT(INV, nnet_dataset_load_csv(csv, "target", NNET_TARGETS_BINARY, 3, &d), d == SENT_DS);
        EXPECT(INV, nnet_dataset_load_csv(csv, "target", NNET_TARGETS_ONE_HOT, 1, &d), d == SENT_DS);
        EXPECT(INV, nnet_dataset_load_csv(csv, "target", NNET_TARGETS_ONE_HOT, 65537, &d),
               d == SENT_DS);
        EXPECT(INV, nnet_dataset_load_csv(csv, "target", NNET_TARGETS_ONE_HOT, SIZE_MAX, &d),
               d == SENT_DS);
        /* ids 0..2 do not fit two classes or the binary encoding */
        EXPECT(FMT, nnet_dataset_load_csv(csv, "target", NNET_TARGETS_ONE_HOT, 2, &d), d == SENT_DS);
        EXPECT(FMT, nnet_dataset_load_csv(csv, "target", NNET_TARGETS_BINARY, 0, &d), d == SENT_DS);
        EXPECT(INV, nnet_dataset_load_csv(csv, "label", 0, 0, &d), d == SENT_DS);
        EXPECT(INV, nnet_dataset_load_csv_columns(csv, col2, 0, 0, 0, &d), d == SENT_DS);
        EXPECT(OVER, nnet_dataset_load_csv_columns(csv, col2, SIZE_MAX, 0, 0, &d), d == SENT_DS);
        EXPECT(INV, nnet_dataset_load_csv_columns(csv, col9, 1, 0, 0, &d), d == SENT_DS);
        EXPECT(INV, nnet_dataset_load_csv_columns(csv, dup, 2, 0, 0, &d), d == SENT_DS);
        EXPECT(INV, nnet_dataset_load_csv_columns(csv, two, 2, NNET_TARGETS_ONE_HOT, 0, &d),
               d == SENT_DS);
        const size_t all3[3] = {0, 1, 2};
        EXPECT(INV, nnet_dataset_load_csv_columns(csv, all3, 3, 0, 0, &d), d == SENT_DS);
        EXPECT(INV, nnet_dataset_load_idx(img, lab, 1, &d), d == SENT_DS);
        EXPECT(INV, nnet_dataset_load_idx(img, lab, 65537, &d), d == SENT_DS);

        /* malformed CSV files */
        static const struct {
            const char *name, *text;
            NnetStatus want;
        } bad_csv[] = {
            {"empty.csv", "", FMT},
            {"blank.csv", "\n\n  \n", FMT},
            {"header-only.csv", "a,b,target\n", FMT},
            {"one-column.csv", "target\n1\n2\n", FMT},
            {"too-few.csv", "a,b,target\n1,2,0\n3,1\n", FMT},
            {"too-many.csv", "a,b,target\n1,2,0\n3,4,1,5\n", FMT},
            {"empty-field.csv", "a,b,target\n1,,0\n", FMT},
            {"word.csv", "a,b,target\n1,2,0\n3,four,1\n", FMT},
            {"hex.csv", "a,b,target\n0x10,2,0\n", FMT},
            {"nan.csv", "a,b,target\n1,2,0\nNaN,4,1\n", FMT},
            {"inf.csv", "a,b,target\n1,inf,0\n", FMT},
            {"overflow.csv", "a,b,target\n1,1e39,0\n", FMT},
            {"negative-class.csv", "a,b,target\n1,2,-1\n", FMT},
            {"fraction-class.csv", "a,b,target\n1,2,0.5\n", FMT},
            {"huge-class.csv", "a,b,target\n1,2,70000\n", FMT},
            {"twice.csv", "a,target,target\n1,2,0\n", FMT},
            {"latin1.csv", "a,b,target\n1,2\xe9,0\n", FMT},
        };
        for (size_t i = 0; i < sizeof bad_csv / sizeof bad_csv[0]; i++) {
            const char *path = put_text(bad_csv[i].name, bad_csv[i].text);
            if (!path) {
                fail(__LINE__, bad_csv[i].name, "cannot write the scratch file");
                continue;
            }
            EXPECT(bad_csv[i].want, nnet_dataset_load_csv(path, "target", NNET_TARGETS_ONE_HOT, 0, &d),
                   d == SENT_DS);
            if (i != 15) /* "twice.csv" has two columns of that name, not a number problem */
                EXPECT(bad_csv[i].want,
                       nnet_dataset_load_csv_columns(path, col2, 1, NNET_TARGETS_ONE_HOT, 0, &d),
                       d == SENT_DS);
        }

        /* malformed FANN files */
        static const struct {
            const char *name, *text;
        } bad_fann[] = {
            {"empty.data", ""},
            {"short-header.data", "3 2\n"},
            {"word-header.data", "three 2 1\n"},
            {"negative-header.data", "-3 2 1\n0 0\n1\n"},
            {"zero-rows.data", "0 2 1\n"},
            {"zero-inputs.data", "2 0 1\n1\n1\n"},
            {"fraction-header.data", "1.5 2 1\n0 0\n1\n"},
            {"too-few.data", "3 2 1\n0 0\n-1\n0 1\n1\n1\n"},
            {"more-rows-promised.data", "5 2 1\n0 0\n-1\n0 1\n1\n1 1\n-1\n"},
            {"extra-values.data", "2 2 1\n0 0\n-1\n0 1\n1\n1 1\n"},
            {"word.data", "2 2 1\n0 zero\n-1\n0 1\n1\n"},
            {"nan.data", "2 2 1\n0 0\nnan\n0 1\n1\n"},
            {"inf.data", "2 2 1\n0 -inf\n-1\n0 1\n1\n"},
            {"overflow.data", "1 2 1\n0 3.5e38\n-1\n"},
            {"huge-header.data", "65536 65536 1\n0 0\n1\n"},
            {"overflowing-header.data", "18446744073709551615 18446744073709551615 2\n0\n"},
            {"latin1.data", "1 2 1\n0 \xe9\n1\n"},
        };
        for (size_t i = 0; i < sizeof bad_fann / sizeof bad_fann[0]; i++) {
            const char *path = put_text(bad_fann[i].name, bad_fann[i].text);
            if (!path) {
                fail(__LINE__, bad_fann[i].name, "cannot write the scratch file");
                continue;
            }
            EXPECT(FMT, nnet_dataset_load_fann(path, &d), d == SENT_DS);
        }

        /* malformed IDX files */
        {
            const uint32_t huge[3] = {65536, 65536, 1}, two_d[2] = {3, 1}, four[1] = {4};
            const uint8_t big_label[3] = {0, 1, 200};
            const uint8_t not_idx[8] = {'n', 'o', 't', ' ', 'i', 'd', 'x', '!'};
            const uint8_t floats[8] = {0, 0, 0x0d, 1, 0, 0, 0, 0};
            const uint8_t cut_header[6] = {0, 0, 8, 3, 0, 0};
            /* a gzip header followed by garbage: a corrupt stream */
            const uint8_t bad_gzip[16] = {0x1f, 0x8b, 8, 0, 0, 0, 0, 0, 0, 3, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff};
            const char *p_huge = put_idx("huge.idx", huge, 3, pixels, 12);
            const char *p_trunc = put_idx("truncated.idx", img_dims, 3, pixels, 11);
            const char *p_trail = put_idx("trailing.idx", lab_dims, 1, pixels, 4);
            const char *p_2d = put_idx("labels-2d.idx", two_d, 2, labs, 3);
            const char *p_four = put_idx("labels-4.idx", four, 1, pixels, 4);
            const char *p_big = put_idx("labels-200.idx", lab_dims, 1, big_label, 3);
            const char *p_not = put("not.idx", not_idx, sizeof not_idx);
            const char *p_float = put("floats.idx", floats, sizeof floats);
            const char *p_cut = put("cut-header.idx", cut_header, sizeof cut_header);
            const char *p_gz = put("bad.idx.gz", bad_gzip, sizeof bad_gzip);
            const char *p_empty = put("empty.idx", "", 0);
            if (!p_huge || !p_trunc || !p_trail || !p_2d || !p_four || !p_big || !p_not ||
                !p_float || !p_cut || !p_gz || !p_empty) {
                fail(__LINE__, "idx", "cannot write the scratch files");
            } else {
                EXPECT(FMT, nnet_dataset_load_idx(p_huge, lab, 0, &d), d == SENT_DS);
                EXPECT(FMT, nnet_dataset_load_idx(p_trunc, lab, 0, &d), d == SENT_DS);
                EXPECT(FMT, nnet_dataset_load_idx(img, p_trail, 0, &d), d == SENT_DS);
                EXPECT(FMT, nnet_dataset_load_idx(img, p_2d, 0, &d), d == SENT_DS);
                EXPECT(SHAPE, nnet_dataset_load_idx(img, p_four, 0, &d), d == SENT_DS);
                EXPECT(FMT, nnet_dataset_load_idx(img, p_big, 10, &d), d == SENT_DS);
                EXPECT(FMT, nnet_dataset_load_idx(img, lab, 2, &d), d == SENT_DS);
                EXPECT(FMT, nnet_dataset_load_idx(p_not, lab, 0, &d), d == SENT_DS);
                EXPECT(FMT, nnet_dataset_load_idx(p_float, lab, 0, &d), d == SENT_DS);
                EXPECT(FMT, nnet_dataset_load_idx(p_cut, lab, 0, &d), d == SENT_DS);
                EXPECT(FMT, nnet_dataset_load_idx(p_gz, lab, 0, &d), d == SENT_DS);
                EXPECT(FMT, nnet_dataset_load_idx(img, p_gz, 0, &d), d == SENT_DS);
                EXPECT(FMT, nnet_dataset_load_idx(p_empty, lab, 0, &d), d == SENT_DS);
            }
        }

        /* the getters */
        {
            size_t rows = 77, n_in = 77, n_out = 77, len = 77;
            const float *buf = (const float *)(const void *)&dummy_handle;
            const size_t *lp = (const size_t *)(const void *)&dummy_handle;
#define GOT_KEPT                                                                  \
    (rows == 77 && n_in == 77 && n_out == 77 && len == 77 &&                      \
     buf == (const float *)(const void *)&dummy_handle &&                         \
     lp == (const size_t *)(const void *)&dummy_handle)
            EXPECT(NUL, nnet_dataset_shape(NULL, &rows, &n_in, &n_out), GOT_KEPT);
            EXPECT(NUL, nnet_dataset_shape(good, NULL, &n_in, &n_out), GOT_KEPT);
            EXPECT(NUL, nnet_dataset_shape(good, &rows, NULL, &n_out), GOT_KEPT);
            EXPECT(NUL, nnet_dataset_shape(good, &rows, &n_in, NULL), GOT_KEPT);
            EXPECT(NUL, nnet_dataset_inputs(NULL, &buf, &len), GOT_KEPT);
            EXPECT(NUL, nnet_dataset_inputs(good, NULL, &len), GOT_KEPT);
            EXPECT(NUL, nnet_dataset_inputs(good, &buf, NULL), GOT_KEPT);
            EXPECT(NUL, nnet_dataset_targets(NULL, &buf, &len), GOT_KEPT);
            EXPECT(NUL, nnet_dataset_targets(good, NULL, &len), GOT_KEPT);
            EXPECT(NUL, nnet_dataset_targets(good, &buf, NULL), GOT_KEPT);
            EXPECT(NUL, nnet_dataset_labels(NULL, &lp, &len), GOT_KEPT);
            EXPECT(NUL, nnet_dataset_labels(good, NULL, &len), GOT_KEPT);
            EXPECT(NUL, nnet_dataset_labels(good, &lp, NULL), GOT_KEPT);
            EXPECT(INV, nnet_dataset_labels(plain, &lp, &len), GOT_KEPT); /* no labels */
            INFALLIBLE(nnet_dataset_num_classes(NULL) == 0);
            nnet_dataset_free(NULL);
            INFALLIBLE(1); /* the NULL free above returned */
        }

        /* the split */
        {
            NnetDataset *a = SENT_DS, *b = SENT_DS;
            const double bad_fraction[7] = {0.0, 1.0, -0.25, 1.5, (double)NaN, (double)INF, 0.01};
            for (int i = 0; i < 7; i++)
                EXPECT(INV, nnet_dataset_split(good, bad_fraction[i], 1, &a, &b),
                       a == SENT_DS && b == SENT_DS);
            EXPECT(NUL, nnet_dataset_split(NULL, 0.5, 1, &a, &b), a == SENT_DS && b == SENT_DS);
            EXPECT(NUL, nnet_dataset_split(good, 0.5, 1, NULL, &b), b == SENT_DS);
            EXPECT(NUL, nnet_dataset_split(good, 0.5, 1, &a, NULL), a == SENT_DS);
            EXPECT(INV, nnet_dataset_split(good, 0.5, 1, &a, &a), a == SENT_DS);
            /* a valid split still works and leaves the source as it was */
            INFALLIBLE(nnet_dataset_split(good, 0.5, 1, &a, &b) == OK && shape_is(a, 2, 2, 3) &&
                       shape_is(b, 1, 2, 3) && shape_is(good, 3, 2, 3));
            if (a != SENT_DS) nnet_dataset_free(a);
            if (b != SENT_DS) nnet_dataset_free(b);
        }

        /* a data set that does not fit the network: its borrowed buffers are checked like any */
        {
            const float *dx = NULL, *dy = NULL;
            size_t nx = 0, ny = 0;
            if (nnet_dataset_inputs(good, &dx, &nx) == OK &&
                nnet_dataset_targets(good, &dy, &ny) == OK) {
                fill(out, 64);
                EXPECT(SHAPE, nnet_predict(net, dx, 3, 2, out, 3), untouched(out, 64));
                EXPECT(SHAPE, nnet_network_fit_scaling(net, dx, 3, 2, dy, 3), weights_are(net, w0, D));
            } else {
                fail(__LINE__, "nnet_dataset_inputs/targets", "cannot borrow the buffers");
            }
        }
        nnet_dataset_free(good);
        nnet_dataset_free(plain);
        remove_scratch();
    }

    /* ---------------------------------------------------------------- buffers */
    {
        uint8_t *buf = (uint8_t *)(void *)&dummy_handle;
        size_t len = 777;
        EXPECT(NUL, nnet_save_to_buffer(NULL, &buf, &len),
               buf == (uint8_t *)(void *)&dummy_handle && len == 777);
        EXPECT(NUL, nnet_save_to_buffer(net, NULL, &len), len == 777);
        EXPECT(NUL, nnet_save_to_buffer(net, &buf, NULL), buf == (uint8_t *)(void *)&dummy_handle);

        /* a small saved network (2-2-1 with input and target scaling) */
        const size_t small_layers[3] = {2, 2, 1};
        NnetNetwork *small = NULL;
        if (nnet_network_new(small_layers, 3, NNET_OUTPUT_LINEAR, 3, 0.5f, &small) != NNET_OK ||
            nnet_network_fit_scaling(small, x, 4, 2, y, 1) != NNET_OK ||
            nnet_save_to_buffer(small, &buf, &len) != NNET_OK) {
            fprintf(stderr, "cannot save the small network: %s\n", nnet_last_error());
            return 1;
        }
        nnet_network_free(small);
        uint8_t *copy = malloc(len + 1);
        if (!copy) return 1;
        memcpy(copy, buf, len);

        EXPECT(NUL, nnet_load_from_buffer(NULL, len, &h), h == SENT_NET);
        EXPECT(NUL, nnet_load_from_buffer(copy, len, NULL), 1);
        EXPECT(OVER, nnet_load_from_buffer(copy, SIZE_MAX, &h), h == SENT_NET);
        size_t truncations = 0, flips = 0;
        for (size_t n = 0; n < len; n++, truncations++)
            EXPECT(FMT, nnet_load_from_buffer(copy, n, &h), h == SENT_NET);
        for (size_t bit = 0; bit < len * 8; bit++, flips++) {
            copy[bit / 8] ^= (uint8_t)(1u << (bit % 8));
            EXPECT(FMT, nnet_load_from_buffer(copy, len, &h), h == SENT_NET);
            copy[bit / 8] ^= (uint8_t)(1u << (bit % 8));
        }
        copy[len] = 0;
        EXPECT(FMT, nnet_load_from_buffer(copy, len + 1, &h), h == SENT_NET);
        /* the intact buffer still loads: the rejections above were about the damage */
        NnetNetwork *back = NULL;
        INFALLIBLE(nnet_load_from_buffer(copy, len, &back) == NNET_OK && back != NULL);
        nnet_network_free(back);
        printf("corrupt models: %zu truncations and %zu single-bit flips of a %zu-byte model\n",
               truncations, flips, len);
        free(copy);
        nnet_buffer_free(buf, len);
    }

    /* ---------------------------------------------------------------- kernels */
    {
        float v[16], w[16];
        for (int i = 0; i < 16; i++) v[i] = (float)i * 0.1f - 0.7f;
        memcpy(w, v, sizeof v);
        fill(out, 64);
        EXPECT(NUL, nnet_tanh(NULL, out, 4), untouched(out, 64));
        EXPECT(NUL, nnet_tanh(v, NULL, 4), untouched(out, 64));
        EXPECT(INV, nnet_tanh(v, out, 0), untouched(out, 64));
        EXPECT(OVER, nnet_tanh(v, out, SIZE_MAX), untouched(out, 64));
        EXPECT(INV, nnet_tanh(w, w + 1, 4), memcmp(w, v, sizeof v) == 0);

        EXPECT(NUL, nnet_matvec(NULL, 2, 3, v, out), untouched(out, 64));
        EXPECT(NUL, nnet_matvec(v, 2, 3, NULL, out), untouched(out, 64));
        EXPECT(NUL, nnet_matvec(v, 2, 3, v, NULL), untouched(out, 64));
        EXPECT(INV, nnet_matvec(v, 0, 3, v, out), untouched(out, 64));
        EXPECT(INV, nnet_matvec(v, 2, 0, v, out), untouched(out, 64));
        EXPECT(OVER, nnet_matvec(v, SIZE_MAX, 2, v, out), untouched(out, 64));
        EXPECT(OVER, nnet_matvec(v, SIZE_MAX / 8, 2, v, out), untouched(out, 64));
        EXPECT(INV, nnet_matvec(v, 2, 3, w, w + 1), memcmp(w, v, sizeof v) == 0);
        EXPECT(INV, nnet_matvec(w, 2, 3, v, w + 4), memcmp(w, v, sizeof v) == 0);

        EXPECT(NUL, nnet_matvec_t(NULL, 2, 3, v, out), untouched(out, 64));
        EXPECT(NUL, nnet_matvec_t(v, 2, 3, NULL, out), untouched(out, 64));
        EXPECT(NUL, nnet_matvec_t(v, 2, 3, v, NULL), untouched(out, 64));
        EXPECT(INV, nnet_matvec_t(v, 0, 3, v, out), untouched(out, 64));
        EXPECT(INV, nnet_matvec_t(v, 2, 0, v, out), untouched(out, 64));
        EXPECT(OVER, nnet_matvec_t(v, 2, SIZE_MAX, v, out), untouched(out, 64));
        EXPECT(INV, nnet_matvec_t(v, 2, 3, w, w + 2), memcmp(w, v, sizeof v) == 0);
        EXPECT(INV, nnet_matvec_t(w, 2, 3, v, w + 5), memcmp(w, v, sizeof v) == 0);

        EXPECT(NUL, nnet_rank1_update(NULL, 2, 3, 0.5f, v, v), 1);
        EXPECT(NUL, nnet_rank1_update(w, 2, 3, 0.5f, NULL, v), memcmp(w, v, sizeof v) == 0);
        EXPECT(NUL, nnet_rank1_update(w, 2, 3, 0.5f, v, NULL), memcmp(w, v, sizeof v) == 0);
        EXPECT(INV, nnet_rank1_update(w, 0, 3, 0.5f, v, v), memcmp(w, v, sizeof v) == 0);
        EXPECT(INV, nnet_rank1_update(w, 2, 0, 0.5f, v, v), memcmp(w, v, sizeof v) == 0);
        EXPECT(OVER, nnet_rank1_update(w, SIZE_MAX, 3, 0.5f, v, v), memcmp(w, v, sizeof v) == 0);
        EXPECT(NONFIN, nnet_rank1_update(w, 2, 3, NaN, v, v), memcmp(w, v, sizeof v) == 0);
        EXPECT(NONFIN, nnet_rank1_update(w, 2, 3, INF, v, v), memcmp(w, v, sizeof v) == 0);
        EXPECT(NONFIN, nnet_rank1_update(w, 2, 3, -INF, v, v), memcmp(w, v, sizeof v) == 0);
        EXPECT(INV, nnet_rank1_update(w, 2, 3, 0.5f, w + 5, v), memcmp(w, v, sizeof v) == 0);
        EXPECT(INV, nnet_rank1_update(w, 2, 3, 0.5f, v, w), memcmp(w, v, sizeof v) == 0);
    }

    /* ---------------------------------------------------------------- optimizers */
    {
        NnetOptimizerConfig good = nnet_optimizer_config_default(), c;
        NnetScheduleConfig sched = nnet_schedule_config_default(), sc;
        NnetOptimizer *opt = (NnetOptimizer *)(void *)&dummy_handle, *const SENT_OPT = opt;
        float g[64], rate = SENT;
        for (size_t i = 0; i < D; i++) g[i] = 0.25f;
        INFALLIBLE(good.kind == NNET_OPT_SGD && good.learning_rate > 0.0f && good.momentum == 0.9f &&
                   good.beta1 == 0.9f && good.beta2 == 0.999f && good.eps == 1e-8f &&
                   good.weight_decay == 0.01f && good.rprop_increase == 1.2f &&
                   good.rprop_decrease == 0.5f && good.rprop_delta0 == 0.1f &&
                   good.rprop_delta_min == 0.0f && good.rprop_delta_max == 50.0f);
        INFALLIBLE(sched.kind == NNET_SCHEDULE_CONSTANT && sched.step_epochs >= 1);

        EXPECT(NUL, nnet_optimizer_new(NULL, &good, &opt), opt == SENT_OPT);
        EXPECT(NUL, nnet_optimizer_new(net, NULL, &opt), opt == SENT_OPT);
        EXPECT(NUL, nnet_optimizer_new(net, &good, NULL), 1);
        c = good, c.kind = 6;
        EXPECT(INV, nnet_optimizer_new(net, &c, &opt), opt == SENT_OPT);
        c = good, c.kind = UINT32_MAX;
        EXPECT(INV, nnet_optimizer_new(net, &c, &opt), opt == SENT_OPT);
        const float bad_rate[5] = {0.0f, -0.1f, NaN, INF, -INF};
        for (int i = 0; i < 5; i++) {
            c = good, c.learning_rate = bad_rate[i];
            EXPECT(INV, nnet_optimizer_new(net, &c, &opt), opt == SENT_OPT);
        }
        const float bad_mu[4] = {1.0f, -0.1f, NaN, INF};
        for (int i = 0; i < 4; i++) {
            c = good, c.kind = NNET_OPT_MOMENTUM, c.momentum = bad_mu[i];
            EXPECT(INV, nnet_optimizer_new(net, &c, &opt), opt == SENT_OPT);
            c.kind = NNET_OPT_NESTEROV;
            EXPECT(INV, nnet_optimizer_new(net, &c, &opt), opt == SENT_OPT);
            c = good, c.kind = NNET_OPT_ADAM, c.beta1 = bad_mu[i];
            EXPECT(INV, nnet_optimizer_new(net, &c, &opt), opt == SENT_OPT);
            c = good, c.kind = NNET_OPT_ADAMW, c.beta2 = bad_mu[i];
            EXPECT(INV, nnet_optimizer_new(net, &c, &opt), opt == SENT_OPT);
        }
        c = good, c.kind = NNET_OPT_ADAM, c.eps = 0.0f;
        EXPECT(INV, nnet_optimizer_new(net, &c, &opt), opt == SENT_OPT);
        c = good, c.kind = NNET_OPT_ADAMW, c.weight_decay = -0.01f;
        EXPECT(INV, nnet_optimizer_new(net, &c, &opt), opt == SENT_OPT);
        c = good, c.kind = NNET_OPT_RPROP, c.rprop_increase = 1.0f;
        EXPECT(INV, nnet_optimizer_new(net, &c, &opt), opt == SENT_OPT);
        c = good, c.kind = NNET_OPT_RPROP, c.rprop_decrease = 1.0f;
        EXPECT(INV, nnet_optimizer_new(net, &c, &opt), opt == SENT_OPT);
        c = good, c.kind = NNET_OPT_RPROP, c.rprop_delta0 = 0.0f;
        EXPECT(INV, nnet_optimizer_new(net, &c, &opt), opt == SENT_OPT);
        c = good, c.kind = NNET_OPT_RPROP, c.rprop_delta_min = -1.0f;
        EXPECT(INV, nnet_optimizer_new(net, &c, &opt), opt == SENT_OPT);
        c = good, c.kind = NNET_OPT_RPROP, c.rprop_delta_max = 0.05f;
        EXPECT(INV, nnet_optimizer_new(net, &c, &opt), opt == SENT_OPT);
        /* fields of other kinds are not read */
        c = good, c.momentum = NaN, c.rprop_increase = -1.0f;
        EXPECT_OK(nnet_optimizer_new(net, &c, &opt), opt != SENT_OPT);
        nnet_optimizer_free(opt);

        c = good, c.kind = NNET_OPT_ADAM;
        opt = NULL;
        EXPECT_OK(nnet_optimizer_new(net, &c, &opt), opt != NULL);
        EXPECT(NUL, nnet_optimizer_step(NULL, net, g, D), weights_are(net, w0, D));
        EXPECT(NUL, nnet_optimizer_step(opt, NULL, g, D), weights_are(net, w0, D));
        EXPECT(NUL, nnet_optimizer_step(opt, net, NULL, D), weights_are(net, w0, D));
        EXPECT(SHAPE, nnet_optimizer_step(opt, net, g, D - 1), weights_are(net, w0, D));
        EXPECT(SHAPE, nnet_optimizer_step(opt, net, g, D + 1), weights_are(net, w0, D));
        EXPECT(OVER, nnet_optimizer_step(opt, net, g, SIZE_MAX), weights_are(net, w0, D));
        g[3] = NaN;
        EXPECT(NONFIN, nnet_optimizer_step(opt, net, g, D), weights_are(net, w0, D));
        g[3] = INF;
        EXPECT(NONFIN, nnet_optimizer_step(opt, net, g, D), weights_are(net, w0, D));
        g[3] = 0.25f;
        INFALLIBLE(nnet_optimizer_steps(opt) == 0);
        INFALLIBLE(nnet_optimizer_steps(NULL) == 0);
        for (int i = 0; i < 5; i++) {
            EXPECT(INV, nnet_optimizer_set_learning_rate(opt, bad_rate[i]), 1);
        }
        EXPECT(NUL, nnet_optimizer_set_learning_rate(NULL, 0.1f), 1);
        EXPECT(NUL, nnet_optimizer_reset(NULL), 1);
        /* a step on a copy moves the weights; a network of another shape is refused */
        {
            NnetNetwork *copy = NULL, *other = NULL;
            const size_t small[2] = {2, 1};
            if (nnet_network_clone(net, &copy) != NNET_OK ||
                nnet_network_new(small, 2, NNET_OUTPUT_TANH, 1, 0.5f, &other) != NNET_OK)
                return 1;
            EXPECT_OK(nnet_optimizer_step(opt, copy, g, D), nnet_optimizer_steps(opt) == 1);
            INFALLIBLE(!weights_are(copy, w0, D));
            EXPECT(SHAPE, nnet_optimizer_step(opt, other, g, 3), nnet_optimizer_steps(opt) == 1);
            EXPECT_OK(nnet_optimizer_reset(opt), nnet_optimizer_steps(opt) == 0);
            nnet_network_free(copy);
            nnet_network_free(other);
        }
        nnet_optimizer_free(opt);
        nnet_optimizer_free(NULL);

        EXPECT(NUL, nnet_schedule_rate(NULL, 0.1f, 0, 10, &rate), rate == SENT);
        EXPECT(NUL, nnet_schedule_rate(&sched, 0.1f, 0, 10, NULL), 1);
        EXPECT(INV, nnet_schedule_rate(&sched, 0.1f, 10, 10, &rate), rate == SENT);
        EXPECT(INV, nnet_schedule_rate(&sched, 0.1f, 0, 0, &rate), rate == SENT);
        EXPECT(INV, nnet_schedule_rate(&sched, NaN, 0, 10, &rate), rate == SENT);
        sc = sched, sc.kind = 5;
        EXPECT(INV, nnet_schedule_rate(&sc, 0.1f, 0, 10, &rate), rate == SENT);
        sc = sched, sc.kind = NNET_SCHEDULE_STEP, sc.step_epochs = 0;
        EXPECT(INV, nnet_schedule_rate(&sc, 0.1f, 0, 10, &rate), rate == SENT);
        sc = sched, sc.kind = NNET_SCHEDULE_EXPONENTIAL, sc.gamma = 1.5f;
        EXPECT(INV, nnet_schedule_rate(&sc, 0.1f, 0, 10, &rate), rate == SENT);
        sc = sched, sc.kind = NNET_SCHEDULE_STEP, sc.gamma = 0.0f;
        EXPECT(INV, nnet_schedule_rate(&sc, 0.1f, 0, 10, &rate), rate == SENT);
        sc = sched, sc.kind = NNET_SCHEDULE_INVERSE_TIME, sc.decay = -1.0f;
        EXPECT(INV, nnet_schedule_rate(&sc, 0.1f, 0, 10, &rate), rate == SENT);
        sc = sched, sc.kind = NNET_SCHEDULE_COSINE, sc.eta_min = 0.2f;
        EXPECT(INV, nnet_schedule_rate(&sc, 0.1f, 0, 10, &rate), rate == SENT);
        sc = sched, sc.kind = NNET_SCHEDULE_COSINE, sc.eta_min = 0.0f;
        EXPECT_OK(nnet_schedule_rate(&sc, 0.1f, 5, 10, &rate), fabsf(rate - 0.05f) < 1e-7f);
    }

    /* the test network itself was never changed by any failed call */
    require(weights_are(net, w0, D), "weights of the test network unchanged", __LINE__);
    nnet_network_free(net);

    printf("bad_input: %d cases, %d failures (kernels %s)\n", cases, failures, nnet_isa());
    if (failures) {
        printf("FAIL\n");
        return 1;
    }
    printf("OK\n");
    return 0;
}
