/* Regression on a FANN data file: load it with nnet_dataset_load_fann, split off a seeded
 * validation set, standardize inputs and targets, train a tanh network with early stopping,
 * then print the test mean squared error beside the error of always predicting the training
 * mean. The trained network is saved to a buffer with its standardization, reloaded, and must
 * predict bitwise the same values.
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
#include <string.h>

#include "nnet.h"

/* A data set and its shape and buffers, borrowed from the handle (valid until it is freed). */
typedef struct {
    NnetDataset *ds;
    size_t rows, n_in, n_out;
    const float *x, *y;
} Data;

static void check(NnetStatus s, const char *what) {
    if (s != NNET_OK) {
        const char *msg = nnet_last_error();
        fprintf(stderr, "regression: %s failed (status %u): %s\n", what, (unsigned)s, msg ? msg : "(no message)");
        exit(1);
    }
}

/* Fills in the shape and borrows the buffers of d->ds. */
static void view(Data *d) {
    size_t nx = 0, ny = 0;
    check(nnet_dataset_shape(d->ds, &d->rows, &d->n_in, &d->n_out), "nnet_dataset_shape");
    check(nnet_dataset_inputs(d->ds, &d->x, &nx), "nnet_dataset_inputs");
    check(nnet_dataset_targets(d->ds, &d->y, &ny), "nnet_dataset_targets");
    if (nx != d->rows * d->n_in || ny != d->rows * d->n_out) {
        fprintf(stderr, "regression: buffer lengths %zu and %zu do not match the shape\n", nx, ny);
        exit(1);
    }
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

/* Mean over samples of the summed squared error of `pred` against the targets. */
static double mse(const float *pred, const Data *d) {
    double total = 0;
    for (size_t i = 0; i < d->rows * d->n_out; i++) {
        double e = (double)d->y[i] - (double)pred[i];
        total += e * e;
    }
    return total / (double)d->rows;
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
    check(nnet_dataset_load_fann(argv[1], &all.ds), "nnet_dataset_load_fann (training file)");
    check(nnet_dataset_load_fann(argv[2], &test.ds), "nnet_dataset_load_fann (test file)");
    view(&all);
    view(&test);
    if (test.n_in != all.n_in || test.n_out != all.n_out) {
        fprintf(stderr, "the test file has %zu inputs and %zu outputs, the training file %zu and %zu\n",
                test.n_in, test.n_out, all.n_in, all.n_out);
        return 1;
    }
    /* a seeded 75% / 25% split of the training file: training and validation */
    check(nnet_dataset_split(all.ds, 0.75, 11, &train.ds, &val.ds), "nnet_dataset_split");
    view(&train);
    view(&val);
    printf("nnet %s, kernels %s\n", nnet_version(), nnet_isa());
    printf("%zu training rows (%zu for validation), %zu test rows, %zu inputs, %zu outputs\n",
           all.rows, val.rows, test.rows, all.n_in, all.n_out);

    const size_t layers[3] = {all.n_in, 16, all.n_out};
    NnetNetwork *net = NULL;
    check(nnet_network_new(layers, 3, NNET_OUTPUT_LINEAR, 42, 0.2f, &net), "nnet_network_new");
    /* standardize inputs and targets on the training part; predict maps raw to raw, while
     * training (and the E_in / E_val it reports) works in standardized units */
    check(nnet_network_fit_scaling(net, train.x, train.rows, train.n_in, train.y, train.n_out),
          "nnet_network_fit_scaling");

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
    printf("early stopping: %u epochs run, best epoch %u, E_in %.6f, E_val %.6f (standardized)\n",
           report.epochs_run, report.best_epoch, report.train_error, report.validation_error);

    float *pred = malloc(test.rows * test.n_out * sizeof(float));
    float *again = malloc(test.rows * test.n_out * sizeof(float));
    float *raw = malloc(test.rows * test.n_out * sizeof(float));
    if (!pred || !again || !raw) {
        fprintf(stderr, "out of memory\n");
        return 1;
    }
    check(nnet_predict(net, test.x, test.rows, test.n_in, pred, test.n_out), "nnet_predict");
    double test_mse = mse(pred, &test), baseline = mean_baseline(&train, &test);
    printf("test MSE %.6f (per output %.6f); predicting the training mean: %.6f\n", test_mse,
           test_mse / (double)test.n_out, baseline);

    /* the standardization travels with the saved network: the reloaded copy predicts
     * bitwise the same, and the same weights without it predict something else */
    uint8_t *buf = NULL;
    size_t len = 0;
    NnetNetwork *loaded = NULL;
    check(nnet_save_to_buffer(net, &buf, &len), "nnet_save_to_buffer");
    check(nnet_load_from_buffer(buf, len, &loaded), "nnet_load_from_buffer");
    nnet_buffer_free(buf, len);
    check(nnet_predict(loaded, test.x, test.rows, test.n_in, again, test.n_out),
          "nnet_predict (reloaded)");
    int same = memcmp(pred, again, test.rows * test.n_out * sizeof(float)) == 0;
    check(nnet_network_clear_scaling(loaded), "nnet_network_clear_scaling");
    check(nnet_predict(loaded, test.x, test.rows, test.n_in, raw, test.n_out),
          "nnet_predict (without scaling)");
    int scaled = memcmp(pred, raw, test.rows * test.n_out * sizeof(float)) != 0;
    printf("saved with its scaling (%zu bytes) and reloaded: predictions %s; without the scaling: %s\n",
           len, same ? "identical" : "DIFFERENT", scaled ? "different" : "THE SAME");

    nnet_network_free(loaded);
    nnet_network_free(net);
    free(pred), free(again), free(raw);
    nnet_dataset_free(val.ds), nnet_dataset_free(train.ds);
    nnet_dataset_free(test.ds), nnet_dataset_free(all.ds);
    if (!same || !scaled) {
        printf("FAIL: the reloaded network does not predict as the saved one\n");
        return 1;
    }
    if (!isfinite(test_mse) || !(test_mse < 0.5 * baseline)) {
        printf("FAIL: the network does not halve the error of the mean\n");
        return 1;
    }
    printf("OK\n");
    return 0;
}
