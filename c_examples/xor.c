/* XOR with a 2-3-1 tanh network: train, print the four predictions, save, reload, predict
 * again and check that the reloaded network predicts exactly the same values.
 *
 *   usage: xor [model-path]        (default: xor.nnet in the current directory)
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "nnet.h"

static void check(NnetStatus s, const char *what) {
    if (s != NNET_OK) {
        const char *msg = nnet_last_error();
        fprintf(stderr, "xor: %s failed (status %u): %s\n", what, (unsigned)s, msg ? msg : "(no message)");
        exit(1);
    }
}

int main(int argc, char **argv) {
    const char *path = argc > 1 ? argv[1] : "xor.nnet";
    static const float x[8] = {-1, -1, -1, 1, 1, -1, 1, 1};
    static const float y[4] = {-1, 1, 1, -1};
    const size_t layers[3] = {2, 3, 1};

    printf("nnet %s, kernels %s\n", nnet_version(), nnet_isa());

    NnetNetwork *net = NULL;
    check(nnet_network_new(layers, 3, NNET_OUTPUT_TANH, 3, 1.0f, &net), "nnet_network_new");

    NnetTrainConfig cfg = nnet_train_config_default();
    cfg.learning_rate = 0.1f;
    cfg.epochs = 500;
    cfg.init_range = 1.0f;
    cfg.restarts = 2;
    NnetTrainReport report;
    check(nnet_train(net, &cfg, x, y, 4, 2, 1, NULL, NULL, 0, &report), "nnet_train");
    printf("trained 2-3-1 tanh: %u epochs, E_in = %.6f\n", report.epochs_run, report.train_error);

    float out[4], classes[4];
    check(nnet_predict(net, x, 4, 2, out, 1), "nnet_predict");
    check(nnet_classify(net, x, 4, 2, classes, 4), "nnet_classify");
    int wrong = 0;
    for (int i = 0; i < 4; i++) {
        printf("x = (%+.0f, %+.0f)  ->  %+.6f  (class %+.0f, label %+.0f)\n", x[2 * i],
               x[2 * i + 1], out[i], classes[i], y[i]);
        wrong += classes[i] != y[i];
    }

    check(nnet_save(net, path), "nnet_save");
    NnetNetwork *loaded = NULL;
    check(nnet_load(path, &loaded), "nnet_load");
    float again[4];
    check(nnet_predict(loaded, x, 4, 2, again, 1), "nnet_predict (reloaded)");
    int same_file = memcmp(out, again, sizeof out) == 0;

    uint8_t *buf = NULL;
    size_t len = 0;
    check(nnet_save_to_buffer(net, &buf, &len), "nnet_save_to_buffer");
    NnetNetwork *from_buf = NULL;
    check(nnet_load_from_buffer(buf, len, &from_buf), "nnet_load_from_buffer");
    nnet_buffer_free(buf, len);
    check(nnet_predict(from_buf, x, 4, 2, again, 1), "nnet_predict (from buffer)");
    int same_buf = memcmp(out, again, sizeof out) == 0;

    printf("saved to %s (%zu bytes) and reloaded: predictions %s; from a buffer: %s\n", path, len,
           same_file ? "identical" : "DIFFERENT", same_buf ? "identical" : "DIFFERENT");

    nnet_network_free(from_buf);
    nnet_network_free(loaded);
    nnet_network_free(net);
    if (wrong || !same_file || !same_buf) {
        printf("FAIL: %d of 4 misclassified\n", wrong);
        return 1;
    }
    printf("OK\n");
    return 0;
}
