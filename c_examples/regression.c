/* Regression on a FANN data file: train a tanh network with early stopping on a validation
 * split of the training file, then print the test mean squared error beside the error of
 * always predicting the training mean.
 *
 *   usage: regression train.data test.data [max-epochs]
 *   e.g.   regression data/fann-building/building.train data/fann-building/building.test
 *
 * A FANN .data file starts with a line "N n_in n_out", followed by each sample as a line of
 * n_in inputs and a line of n_out outputs.
 */
#include <math.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>

#include "nnet.h"

typedef struct {
    size_t rows, n_in, n_out;
    float *x, *y;
} Data;

static void check(NnetStatus s, const char *what) {
    if (s != NNET_OK) {
        const char *msg = nnet_last_error();
        fprintf(stderr, "regression: %s failed (status %u): %s\n", what, (unsigned)s, msg ? msg : "(no message)");
        exit(1);
    }
}

static int read_fann(const char *path, Data *d) {
    FILE *f = fopen(path, "r");
    if (!f) {
        perror(path);
        return 0;
    }
    if (fscanf(f, "%zu %zu %zu", &d->rows, &d->n_in, &d->n_out) != 3 || d->rows == 0 ||
        d->n_in == 0 || d->n_out == 0 || d->rows > SIZE_MAX / sizeof(float) / (d->n_in + d->n_out)) {
        fprintf(stderr, "%s: bad header (expected \"N n_in n_out\")\n", path);
        fclose(f);
        return 0;
    }
    d->x = malloc(d->rows * d->n_in * sizeof(float));
    d->y = malloc(d->rows * d->n_out * sizeof(float));
    if (!d->x || !d->y) {
        fprintf(stderr, "%s: out of memory\n", path);
        fclose(f);
        return 0;
    }
    for (size_t r = 0; r < d->rows; r++) {
        for (size_t i = 0; i < d->n_in; i++) {
            if (fscanf(f, "%f", &d->x[r * d->n_in + i]) != 1) goto bad;
        }
        for (size_t k = 0; k < d->n_out; k++) {
            if (fscanf(f, "%f", &d->y[r * d->n_out + k]) != 1) goto bad;
        }
    }
    fclose(f);
    return 1;
bad:
    fprintf(stderr, "%s: fewer values than the header announces\n", path);
    fclose(f);
    return 0;
}

static void free_data(Data *d) {
    free(d->x);
    free(d->y);
}

/* Splits every 4th row into the validation set, the rest into the training set. */
static int split(const Data *all, Data *train, Data *val) {
    size_t nv = all->rows / 4, nt = all->rows - nv;
    train->rows = nt, val->rows = nv;
    train->n_in = val->n_in = all->n_in;
    train->n_out = val->n_out = all->n_out;
    train->x = malloc(nt * all->n_in * sizeof(float));
    train->y = malloc(nt * all->n_out * sizeof(float));
    val->x = malloc((nv ? nv : 1) * all->n_in * sizeof(float));
    val->y = malloc((nv ? nv : 1) * all->n_out * sizeof(float));
    if (!train->x || !train->y || !val->x || !val->y) return 0;
    size_t it = 0, iv = 0;
    for (size_t r = 0; r < all->rows; r++) {
        int to_val = (r % 4 == 3) && iv < nv;
        Data *dst = to_val ? val : train;
        size_t j = to_val ? iv++ : it++;
        for (size_t i = 0; i < all->n_in; i++) dst->x[j * all->n_in + i] = all->x[r * all->n_in + i];
        for (size_t k = 0; k < all->n_out; k++)
            dst->y[j * all->n_out + k] = all->y[r * all->n_out + k];
    }
    return 1;
}

/* Mean over samples of the summed squared error of predicting the training mean. */
static double mean_baseline(const Data *train, const Data *test) {
    double total = 0;
    for (size_t k = 0; k < train->n_out; k++) {
        double m = 0;
        for (size_t r = 0; r < train->rows; r++) m += train->y[r * train->n_out + k];
        m /= (double)train->rows;
        for (size_t r = 0; r < test->rows; r++) {
            double e = test->y[r * test->n_out + k] - m;
            total += e * e;
        }
    }
    return total / (double)test->rows;
}

static int32_t progress(const NnetEpochInfo *info, void *user) {
    (void)user;
    if (info->epoch == 1 || info->epoch % 25 == 0)
        printf("  epoch %4u  E_in %.6f  E_val %.6f\n", info->epoch, info->train_error,
               info->validation_error);
    return 0;
}

int main(int argc, char **argv) {
    if (argc != 3 && argc != 4) {
        fprintf(stderr, "usage: %s train.data test.data [max-epochs]\n", argv[0]);
        return 2;
    }
    long max_epochs = argc == 4 ? strtol(argv[3], NULL, 10) : 300;
    if (max_epochs < 1 || max_epochs > 100000) {
        fprintf(stderr, "max-epochs must be in 1..100000\n");
        return 2;
    }
    Data all = {0}, test = {0}, train = {0}, val = {0};
    if (!read_fann(argv[1], &all) || !read_fann(argv[2], &test)) return 1;
    if (test.n_in != all.n_in || test.n_out != all.n_out) {
        fprintf(stderr, "the test file has %zu inputs and %zu outputs, the training file %zu and %zu\n",
                test.n_in, test.n_out, all.n_in, all.n_out);
        return 1;
    }
    if (!split(&all, &train, &val)) {
        fprintf(stderr, "out of memory\n");
        return 1;
    }
    printf("nnet %s, kernels %s\n", nnet_version(), nnet_isa());
    printf("%zu training rows (%zu for validation), %zu test rows, %zu inputs, %zu outputs\n",
           all.rows, val.rows, test.rows, all.n_in, all.n_out);

    const size_t layers[3] = {all.n_in, 16, all.n_out};
    NnetNetwork *net = NULL;
    check(nnet_network_new(layers, 3, NNET_OUTPUT_LINEAR, 42, 0.2f, &net), "nnet_network_new");

    NnetTrainConfig cfg = nnet_train_config_default();
    cfg.learning_rate = 0.01f;
    cfg.epochs = (uint32_t)max_epochs;
    cfg.patience = 20;
    cfg.seed = 7;
    cfg.on_epoch = progress;
    NnetTrainReport report;
    check(nnet_train(net, &cfg, train.x, train.y, train.rows, train.n_in, train.n_out, val.x,
                     val.y, val.rows, &report),
          "nnet_train");
    printf("early stopping: %u epochs run, best epoch %u, E_in %.6f, E_val %.6f\n",
           report.epochs_run, report.best_epoch, report.train_error, report.validation_error);

    double test_mse = 0, baseline = mean_baseline(&train, &test);
    check(nnet_error(net, test.x, test.y, test.rows, test.n_in, test.n_out, &test_mse),
          "nnet_error");
    printf("test MSE %.6f (per output %.6f); predicting the training mean: %.6f\n", test_mse,
           test_mse / (double)test.n_out, baseline);

    nnet_network_free(net);
    free_data(&all), free_data(&test), free_data(&train), free_data(&val);
    if (!isfinite(test_mse) || !(test_mse < 0.5 * baseline)) {
        printf("FAIL: the network does not halve the error of the mean\n");
        return 1;
    }
    printf("OK\n");
    return 0;
}
