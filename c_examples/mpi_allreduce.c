/* Data-parallel training from C with the program's own MPI: every rank holds a shard of the
 * rows and the same initial weights; each step it computes the mean gradient of its local
 * batch with nnet_gradient, turns it into a sum, MPI_Allreduce adds the sums of all ranks in
 * place, and every rank applies the same step with the global mean (nnet_optimizer_step
 * where the header offers the optimizer handle, else w -= eta g through the weight accessors).
 * After every epoch the ranks compare their weights with rank 0's: they must be identical.
 *
 *   make -C c_examples mpi && make -C c_examples mpi-run      (mpirun -np 2)
 *   usage: mpi_allreduce [epochs]
 */
#include <math.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <mpi.h>

#include "nnet.h"

#define ROWS 512  /* global training rows (divisible by the number of ranks) */
#define N_IN 4
#define N_OUT 1
#define LOCAL_BATCH 16

static int rank_id = 0;

static void check(NnetStatus s, const char *what) {
    if (s != NNET_OK) {
        const char *msg = nnet_last_error();
        fprintf(stderr, "mpi_allreduce (rank %d): %s failed (status %u): %s\n", rank_id, what,
                (unsigned)s, msg ? msg : "(no message)");
        MPI_Abort(MPI_COMM_WORLD, 1);
    }
}

/* Row i of the global set: 4 inputs in [-1, 1], target tanh-like sign of a smooth function;
 * depends only on i, so every rank generates just its own rows. */
static void make_row(size_t i, float *x, float *y) {
    uint64_t s = 0x9E3779B97F4A7C15ull * (i + 1);
    for (int j = 0; j < N_IN; j++) {
        s ^= s >> 33;
        s *= 0xff51afd7ed558ccdull;
        s ^= s >> 29;
        x[j] = (float)((s >> 40) / (double)(1u << 24)) * 2.0f - 1.0f;
    }
    y[0] = (x[0] * x[1] - 0.5f * x[2] + 0.25f * x[3] > 0.0f) ? 0.8f : -0.8f;
}

int main(int argc, char **argv) {
    MPI_Init(&argc, &argv);
    int size = 1;
    MPI_Comm_rank(MPI_COMM_WORLD, &rank_id);
    MPI_Comm_size(MPI_COMM_WORLD, &size);
    int epochs = argc > 1 ? atoi(argv[1]) : 30;
    if (ROWS % size != 0 || epochs < 1) {
        if (rank_id == 0) fprintf(stderr, "mpi_allreduce: %d ranks must divide %d rows\n", size, ROWS);
        MPI_Finalize();
        return 2;
    }
    const size_t local_rows = ROWS / (size_t)size;
    const size_t first = (size_t)rank_id * local_rows;
    float *x = malloc(local_rows * N_IN * sizeof *x);
    float *y = malloc(local_rows * N_OUT * sizeof *y);
    if (!x || !y) MPI_Abort(MPI_COMM_WORLD, 1);
    for (size_t i = 0; i < local_rows; i++) make_row(first + i, x + i * N_IN, y + i * N_OUT);

    const size_t layers[3] = {N_IN, 8, N_OUT};
    NnetNetwork *net = NULL;
    /* the same seed on every rank: the same initial weights */
    check(nnet_network_new(layers, 3, NNET_OUTPUT_TANH, 5, 0.5f, &net), "nnet_network_new");
    const size_t d = nnet_network_num_weights(net);
    const float eta = 0.1f;
    float *grad = malloc(d * sizeof *grad);  /* the one buffer the allreduce sums in place */
    float *w = malloc(d * sizeof *w);
    float *w0 = malloc(d * sizeof *w0);
    if (!grad || !w || !w0) MPI_Abort(MPI_COMM_WORLD, 1);
#ifdef NNET_OPT_SGD
    NnetOptimizerConfig ocfg = nnet_optimizer_config_default();
    ocfg.kind = NNET_OPT_SGD;
    ocfg.learning_rate = eta;
    NnetOptimizer *opt = NULL;
    check(nnet_optimizer_new(net, &ocfg, &opt), "nnet_optimizer_new");
    const char *update = "nnet_optimizer_step (SGD)";
#else
    const char *update = "w -= eta g (C)";
#endif
    if (rank_id == 0)
        printf("nnet %s, kernels %s, %d ranks, %zu weights, %d rows, batch %d a rank, update %s\n",
               nnet_version(), nnet_isa(), size, d, ROWS, LOCAL_BATCH, update);

    const size_t steps = (local_rows + LOCAL_BATCH - 1) / LOCAL_BATCH;
    for (int epoch = 1; epoch <= epochs; epoch++) {
        for (size_t s = 0; s < steps; s++) {
            size_t lo = s * LOCAL_BATCH;
            size_t n = local_rows - lo < LOCAL_BATCH ? local_rows - lo : LOCAL_BATCH;
            check(nnet_gradient(net, NULL, x + lo * N_IN, y + lo * N_OUT, n, N_IN, N_OUT, grad, d, NULL),
                  "nnet_gradient");
            /* the mean of n rows -> their sum; every rank has the same n at step s */
            for (size_t i = 0; i < d; i++) grad[i] *= (float)n;
            MPI_Allreduce(MPI_IN_PLACE, grad, (int)d, MPI_FLOAT, MPI_SUM, MPI_COMM_WORLD);
            const float inv = 1.0f / (float)(n * (size_t)size);
            for (size_t i = 0; i < d; i++) grad[i] *= inv;
#ifdef NNET_OPT_SGD
            check(nnet_optimizer_step(opt, net, grad, d), "nnet_optimizer_step");
#else
            check(nnet_network_get_weights(net, w, d), "nnet_network_get_weights");
            for (size_t i = 0; i < d; i++) w[i] -= eta * grad[i];
            check(nnet_network_set_weights(net, w, d), "nnet_network_set_weights");
#endif
        }
        /* identical weights on every rank, bit for bit */
        check(nnet_network_get_weights(net, w, d), "nnet_network_get_weights");
        memcpy(w0, w, d * sizeof *w);
        MPI_Bcast(w0, (int)d, MPI_FLOAT, 0, MPI_COMM_WORLD);
        int differ = memcmp(w0, w, d * sizeof *w) != 0, any = 0;
        MPI_Allreduce(&differ, &any, 1, MPI_INT, MPI_MAX, MPI_COMM_WORLD);
        if (any) {
            if (rank_id == 0) fprintf(stderr, "mpi_allreduce: weights differ between ranks after epoch %d\n", epoch);
            MPI_Abort(MPI_COMM_WORLD, 1);
        }
        /* E_in over all ranks' rows */
        double e = 0.0, sum = 0.0;
        check(nnet_error(net, x, y, local_rows, N_IN, N_OUT, &e), "nnet_error");
        e *= (double)local_rows;
        MPI_Allreduce(&e, &sum, 1, MPI_DOUBLE, MPI_SUM, MPI_COMM_WORLD);
        if (rank_id == 0 && (epoch == 1 || epoch % 10 == 0 || epoch == epochs))
            printf("epoch %3d  E_in %.6f  (weights identical on %d ranks)\n", epoch, sum / ROWS, size);
        if (epoch == epochs && !(sum / ROWS < 0.5)) {
            if (rank_id == 0) fprintf(stderr, "mpi_allreduce: E_in %.4f did not fall below 0.5\n", sum / ROWS);
            MPI_Abort(MPI_COMM_WORLD, 1);
        }
    }
#ifdef NNET_OPT_SGD
    nnet_optimizer_free(opt);
#endif
    nnet_network_free(net);
    free(grad);
    free(w);
    free(w0);
    free(x);
    free(y);
    if (rank_id == 0) printf("ok: every rank ends with the same weights\n");
    MPI_Finalize();
    return 0;
}
