/* nnet_predict and nnet_gradient from 8 threads at once on one network must equal the
 * single-thread results bit for bit (SPEC: both may run concurrently on a const network). */
#include <pthread.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "nnet.h"

#define THREADS 8
#define ROUNDS 20
#define ROWS 64
#define N_IN 8
#define N_OUT 4

static const NnetNetwork *net;
static float x[ROWS * N_IN], y[ROWS * N_OUT];
static float ref_out[ROWS * N_OUT];
static float *ref_grad;
static size_t n_weights;
static double ref_loss;

typedef struct {
    int id;
    int mismatches;
    int failures;
} Job;

static void *worker(void *arg) {
    Job *job = arg;
    float out[ROWS * N_OUT];
    float *grad = malloc(n_weights * sizeof(float));
    if (!grad) {
        job->failures++;
        return NULL;
    }
    NnetRegularization reg = nnet_regularization_default();
    reg.kind = NNET_REG_L2;
    reg.lambda = 0.001f;
    for (int r = 0; r < ROUNDS; r++) {
        double loss = 0;
        if (nnet_predict(net, x, ROWS, N_IN, out, N_OUT) != NNET_OK) job->failures++;
        if (memcmp(out, ref_out, sizeof out) != 0) job->mismatches++;
        if (nnet_gradient(net, &reg, x, y, ROWS, N_IN, N_OUT, grad, n_weights, &loss) != NNET_OK)
            job->failures++;
        if (memcmp(grad, ref_grad, n_weights * sizeof(float)) != 0 || loss != ref_loss)
            job->mismatches++;
        /* each thread's own last error stays NULL after its successes */
        if (nnet_last_error() != NULL) job->failures++;
    }
    free(grad);
    return NULL;
}

int main(void) {
    const size_t layers[4] = {N_IN, 32, 16, N_OUT};
    NnetNetwork *owned = NULL;
    if (nnet_network_new(layers, 4, NNET_OUTPUT_LINEAR, 17, 0.5f, &owned) != NNET_OK) {
        fprintf(stderr, "nnet_network_new: %s\n", nnet_last_error());
        return 1;
    }
    net = owned;
    n_weights = nnet_network_num_weights(net);
    ref_grad = malloc(n_weights * sizeof(float));
    if (!ref_grad) return 1;
    for (int i = 0; i < ROWS * N_IN; i++) x[i] = (float)((i * 37) % 101) / 50.0f - 1.0f;
    for (int i = 0; i < ROWS * N_OUT; i++) y[i] = (float)((i * 11) % 13) / 6.0f - 1.0f;

    NnetRegularization reg = nnet_regularization_default();
    reg.kind = NNET_REG_L2;
    reg.lambda = 0.001f;
    if (nnet_predict(net, x, ROWS, N_IN, ref_out, N_OUT) != NNET_OK ||
        nnet_gradient(net, &reg, x, y, ROWS, N_IN, N_OUT, ref_grad, n_weights, &ref_loss) !=
            NNET_OK) {
        fprintf(stderr, "reference: %s\n", nnet_last_error());
        return 1;
    }

    pthread_t tid[THREADS];
    Job jobs[THREADS];
    for (int t = 0; t < THREADS; t++) {
        jobs[t] = (Job){t, 0, 0};
        if (pthread_create(&tid[t], NULL, worker, &jobs[t]) != 0) {
            fprintf(stderr, "pthread_create failed\n");
            return 1;
        }
    }
    int mismatches = 0, failures = 0;
    for (int t = 0; t < THREADS; t++) {
        pthread_join(tid[t], NULL);
        mismatches += jobs[t].mismatches;
        failures += jobs[t].failures;
    }
    printf("%d threads x %d rounds of nnet_predict + nnet_gradient on one %zu-weight network: "
           "%d mismatches, %d failed calls\n",
           THREADS, ROUNDS, n_weights, mismatches, failures);
    free(ref_grad);
    nnet_network_free(owned);
    if (mismatches || failures) {
        printf("FAIL\n");
        return 1;
    }
    printf("OK\n");
    return 0;
}
