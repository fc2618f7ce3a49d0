/* Checkpoints through the C ABI: a training run stopped by its callback after a few epochs
 * and continued with nnet_train_resume ends with the weights and report of an uninterrupted
 * nnet_train, bit for bit (Adam, mini-batches, early stopping on a validation set and a
 * restart); resuming a finished run gives its result again without training. */
#define _POSIX_C_SOURCE 200809L
#include <math.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "nnet.h"

#define ROWS 48
#define VAL 16
#define N_IN 3
#define N_OUT 2

static float x[ROWS * N_IN], y[ROWS * N_OUT], vx[VAL * N_IN], vy[VAL * N_OUT];

static float uniform(uint64_t *s) {
    *s = *s * 6364136223846793005ull + 1442695040888963407ull;
    return (float)(*s >> 40) / (float)(1u << 24) * 2.0f - 1.0f;
}

static void make(float *in, float *out, int rows, uint64_t *s) {
    for (int r = 0; r < rows; r++) {
        float *a = in + r * N_IN;
        for (int i = 0; i < N_IN; i++) a[i] = uniform(s);
        out[r * N_OUT] = tanhf(a[0] - a[1] * a[2]);
        out[r * N_OUT + 1] = 0.5f * sinf(a[1] + a[2]) + 0.1f * uniform(s);
    }
}

static int calls;
static int32_t stop_every(const NnetEpochInfo *info, void *user) {
    (void)info;
    calls++;
    return calls % *(const int *)user == 0;
}

static int32_t count(const NnetEpochInfo *info, void *user) {
    (void)info;
    (void)user;
    calls++;
    return 0;
}

static NnetNetwork *network(void) {
    const size_t layers[3] = {N_IN, 8, N_OUT};
    NnetNetwork *net = NULL;
    if (nnet_network_new(layers, 3, NNET_OUTPUT_LINEAR, 4, 0.5f, &net) != NNET_OK) {
        fprintf(stderr, "resume: %s\n", nnet_last_error());
        exit(1);
    }
    return net;
}

static int same(const NnetNetwork *a, const NnetNetwork *b) {
    size_t d = nnet_network_num_weights(a);
    float *wa = malloc(d * sizeof *wa), *wb = malloc(d * sizeof *wb);
    int ok = wa && wb && d == nnet_network_num_weights(b) &&
             nnet_network_get_weights(a, wa, d) == NNET_OK &&
             nnet_network_get_weights(b, wb, d) == NNET_OK && memcmp(wa, wb, d * sizeof *wa) == 0;
    free(wa);
    free(wb);
    return ok;
}

int main(void) {
    uint64_t s = 99;
    make(x, y, ROWS, &s);
    make(vx, vy, VAL, &s);
    const char *tmp = getenv("TMPDIR");
    char path[512];
    snprintf(path, sizeof path, "%s/nnet-resume-c-%ld.ckpt", tmp ? tmp : "/tmp", (long)getpid());

    NnetTrainConfig cfg = nnet_train_config_default();
    cfg.learning_rate = 0.01f;
    cfg.epochs = 30;
    cfg.batch_size = 8;
    cfg.patience = 5;
    cfg.restarts = 1;
    cfg.init_range = 0.5f;
    cfg.seed = 7;
    cfg.threads = 1;
    cfg.optimizer.kind = NNET_OPT_ADAM;

    NnetNetwork *want = network();
    NnetTrainReport want_rep;
    if (nnet_train(want, &cfg, x, y, ROWS, N_IN, N_OUT, vx, vy, VAL, &want_rep) != NNET_OK) {
        fprintf(stderr, "resume: uninterrupted training failed: %s\n", nnet_last_error());
        return 1;
    }

    int failures = 0;
    cfg.checkpoint_path = path;
    const int every[3] = {1, 4, 9};
    for (int k = 0; k < 3; k++) {
        remove(path);
        NnetNetwork *net = network();
        NnetTrainReport rep;
        cfg.on_epoch = stop_every;
        cfg.user = (void *)&every[k];
        calls = 0;
        NnetStatus st = nnet_train(net, &cfg, x, y, ROWS, N_IN, N_OUT, vx, vy, VAL, &rep);
        int resumes = 0;
        while (st == NNET_ERR_STOPPED && resumes < 1000) {
            st = nnet_train_resume(net, &cfg, x, y, ROWS, N_IN, N_OUT, vx, vy, VAL, &rep);
            resumes++;
        }
        if (st != NNET_OK) {
            fprintf(stderr, "resume: stopped every %d epochs: status %u: %s\n", every[k],
                    (unsigned)st, nnet_last_error());
            failures++;
        } else if (!same(net, want) || memcmp(&rep, &want_rep, sizeof rep) != 0) {
            fprintf(stderr, "resume: stopped every %d epochs, %d resumes: differs from the "
                    "uninterrupted run\n", every[k], resumes);
            failures++;
        } else {
            printf("stopped every %d epochs: %d resumes, %u epochs kept, equal bit for bit\n",
                   every[k], resumes, rep.epochs_run);
        }
        /* the finished run's checkpoint gives the result again, without an epoch */
        NnetNetwork *again = network();
        cfg.on_epoch = count;
        calls = 0;
        st = nnet_train_resume(again, &cfg, x, y, ROWS, N_IN, N_OUT, vx, vy, VAL, &rep);
        if (st != NNET_OK || calls != 0 || !same(again, want) ||
            memcmp(&rep, &want_rep, sizeof rep) != 0) {
            fprintf(stderr, "resume: a finished checkpoint did not give the result (status %u, "
                    "%d epochs)\n", (unsigned)st, calls);
            failures++;
        }
        nnet_network_free(again);
        nnet_network_free(net);
    }
    remove(path);
    nnet_network_free(want);
    if (failures) return 1;
    printf("resume: ok\n");
    return 0;
}
