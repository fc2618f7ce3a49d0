// Classification from C++ through small RAII wrappers that throw on errors: loads CSV files
// (one header line, feature columns, a column "target" of class ids 0..K-1) with
// nnet_dataset_load_csv as one-hot +-1 targets, splits off a seeded validation set, trains a
// d-H-K tanh network with early stopping, and prints test accuracy.
//
//   usage: classify train.csv test.csv [hidden-units]
//   e.g.   classify data/sklearn-iris/iris.train.csv data/sklearn-iris/iris.test.csv
#include <cstdio>
#include <limits>
#include <stdexcept>
#include <string>
#include <utility>
#include <vector>

#include "nnet.h"

namespace nnet {

// An nnet failure: the status code and the library's message.
class Error : public std::runtime_error {
  public:
    Error(NnetStatus status, const std::string &what)
        : std::runtime_error(what + " failed (status " + std::to_string(status) + "): " + message()),
          status_(status) {}
    NnetStatus status() const { return status_; }

  private:
    static std::string message() {
        const char *m = nnet_last_error();
        return m ? m : "(no message)";
    }
    NnetStatus status_;
};

inline void check(NnetStatus s, const char *what) {
    if (s != NNET_OK) throw Error(s, what);
}

// Owns one NnetNetwork handle; movable, not copyable (use clone()).
class Network {
  public:
    Network(const std::vector<size_t> &layers, uint32_t output, uint64_t seed, float init_range) {
        check(nnet_network_new(layers.data(), layers.size(), output, seed, init_range, &net_),
              "nnet_network_new");
    }
    ~Network() { nnet_network_free(net_); }
    Network(const Network &) = delete;
    Network &operator=(const Network &) = delete;
    Network(Network &&o) noexcept : net_(std::exchange(o.net_, nullptr)) {}
    Network &operator=(Network &&o) noexcept {
        std::swap(net_, o.net_);
        return *this;
    }

    Network clone() const {
        NnetNetwork *copy = nullptr;
        check(nnet_network_clone(net_, &copy), "nnet_network_clone");
        return Network(copy);
    }
    size_t inputs() const { return nnet_network_num_inputs(net_); }
    size_t outputs() const { return nnet_network_num_outputs(net_); }

    void fit_scaling(const std::vector<float> &x) {
        check(nnet_network_fit_scaling(net_, x.data(), rows(x, inputs()), inputs(), nullptr,
                                       outputs()),
              "nnet_network_fit_scaling");
    }
    NnetTrainReport train(const NnetTrainConfig &cfg, const std::vector<float> &x,
                          const std::vector<float> &y, const std::vector<float> &vx,
                          const std::vector<float> &vy) {
        NnetTrainReport r{};
        check(nnet_train(net_, &cfg, x.data(), y.data(), rows(x, inputs()), inputs(), outputs(),
                         vx.data(), vy.data(), vx.empty() ? 0 : rows(vx, inputs()), &r),
              "nnet_train");
        return r;
    }
    std::vector<float> predict(const std::vector<float> &x) const {
        size_t n = rows(x, inputs());
        std::vector<float> y(n * outputs());
        check(nnet_predict(net_, x.data(), n, inputs(), y.data(), outputs()), "nnet_predict");
        return y;
    }
    std::vector<float> classify(const std::vector<float> &x) const {
        size_t n = rows(x, inputs());
        std::vector<float> c(n);
        check(nnet_classify(net_, x.data(), n, inputs(), c.data(), c.size()), "nnet_classify");
        return c;
    }

  private:
    explicit Network(NnetNetwork *net) : net_(net) {}
    // The number of rows; the library cannot see a vector's length, so a partial row is
    // caught here.
    static size_t rows(const std::vector<float> &v, size_t width) {
        if (width == 0 || v.size() % width != 0)
            throw std::invalid_argument(std::to_string(v.size()) + " values are not whole rows of " +
                                        std::to_string(width));
        return v.size() / width;
    }
    NnetNetwork *net_ = nullptr;
};

// Owns one NnetDataset handle; the buffers it lends stay valid while it lives.
class Dataset {
  public:
    // A CSV file whose column `target` holds class ids, as `classes` one-hot +-1 outputs
    // (0: the largest id plus one).
    static Dataset csv_one_hot(const std::string &path, const char *target, size_t classes = 0) {
        NnetDataset *ds = nullptr;
        check(nnet_dataset_load_csv(path.c_str(), target, NNET_TARGETS_ONE_HOT, classes, &ds),
              "nnet_dataset_load_csv");
        return Dataset(ds);
    }
    ~Dataset() { nnet_dataset_free(ds_); }
    Dataset(const Dataset &) = delete;
    Dataset &operator=(const Dataset &) = delete;
    Dataset(Dataset &&o) noexcept : ds_(std::exchange(o.ds_, nullptr)) {}
    Dataset &operator=(Dataset &&o) noexcept {
        std::swap(ds_, o.ds_);
        return *this;
    }

    // A seeded random split: round(fraction * rows) rows, then the rest.
    std::pair<Dataset, Dataset> split(double fraction, uint64_t seed) const {
        NnetDataset *a = nullptr, *b = nullptr;
        check(nnet_dataset_split(ds_, fraction, seed, &a, &b), "nnet_dataset_split");
        return {Dataset(a), Dataset(b)};
    }
    size_t rows() const { return shape()[0]; }
    size_t inputs() const { return shape()[1]; }
    size_t outputs() const { return shape()[2]; }
    size_t classes() const { return nnet_dataset_num_classes(ds_); }
    std::vector<float> x() const { return copy(nnet_dataset_inputs, "nnet_dataset_inputs"); }
    std::vector<float> y() const { return copy(nnet_dataset_targets, "nnet_dataset_targets"); }
    std::vector<size_t> labels() const {
        const size_t *p = nullptr;
        size_t n = 0;
        check(nnet_dataset_labels(ds_, &p, &n), "nnet_dataset_labels");
        return std::vector<size_t>(p, p + n);
    }

  private:
    explicit Dataset(NnetDataset *ds) : ds_(ds) {}
    std::vector<size_t> shape() const {
        std::vector<size_t> s(3);
        check(nnet_dataset_shape(ds_, &s[0], &s[1], &s[2]), "nnet_dataset_shape");
        return s;
    }
    using Lend = NnetStatus (*)(const NnetDataset *, const float **, size_t *);
    std::vector<float> copy(Lend lend, const char *what) const {
        const float *p = nullptr;
        size_t n = 0;
        check(lend(ds_, &p, &n), what);
        return std::vector<float>(p, p + n);
    }
    NnetDataset *ds_ = nullptr;
};

}  // namespace nnet

int main(int argc, char **argv) try {
    if (argc < 3 || argc > 4) {
        std::fprintf(stderr, "usage: %s train.csv test.csv [hidden-units]\n", argv[0]);
        return 2;
    }
    nnet::Dataset train = nnet::Dataset::csv_one_hot(argv[1], "target");
    const size_t k = train.classes(), d = train.inputs();
    // the test file is encoded over the training file's classes, even if it misses one
    nnet::Dataset test = nnet::Dataset::csv_one_hot(argv[2], "target", k);
    size_t hidden = argc == 4 ? std::stoul(argv[3]) : 16;
    if (test.inputs() != d) throw std::runtime_error("train and test have different columns");

    // a seeded 80% / 20% split: training and validation (early stopping)
    auto parts = train.split(0.8, 3);
    const nnet::Dataset &fit = parts.first, &val = parts.second;
    std::vector<float> tx = fit.x(), vx = val.x(), test_x = test.x();
    std::vector<size_t> test_labels = test.labels();

    std::printf("nnet %s, kernels %s\n", nnet_version(), nnet_isa());
    std::printf("%zu-%zu-%zu tanh network, %zu training rows (%zu validate), %zu test rows\n",
                d, hidden, k, fit.rows(), val.rows(), test.rows());

    nnet::Network net({d, hidden, k}, NNET_OUTPUT_TANH, 1, 0.1f);
    net.fit_scaling(tx);
    NnetTrainConfig cfg = nnet_train_config_default();
    cfg.learning_rate = 0.01f;
    cfg.epochs = 200;
    cfg.patience = 20;
    cfg.seed = 5;
    NnetTrainReport r = net.train(cfg, tx, fit.y(), vx, val.y());
    std::printf("trained: %u epochs, best %u, E_in %.4f, E_val %.4f\n", r.epochs_run,
                r.best_epoch, r.train_error, r.validation_error);

    // a copy predicts the same; the original keeps working after the copy is gone
    std::vector<float> classes = net.clone().classify(test_x);
    size_t correct = 0;
    for (size_t i = 0; i < classes.size(); i++) correct += classes[i] == static_cast<float>(test_labels[i]);
    double accuracy = static_cast<double>(correct) / static_cast<double>(classes.size());
    std::printf("test accuracy %.4f (%zu of %zu)\n", accuracy, correct, classes.size());
    if (net.classify(test_x) != classes) throw std::runtime_error("the clone classifies differently");

    // errors arrive as exceptions carrying the status and the library's message
    bool threw = false;
    try {
        std::vector<float> bad(test_x.begin(), test_x.begin() + static_cast<std::ptrdiff_t>(d));
        bad[0] = std::numeric_limits<float>::quiet_NaN();
        net.predict(bad);
    } catch (const nnet::Error &e) {
        threw = e.status() == NNET_ERR_NON_FINITE;
        std::printf("a NaN input throws: %s\n", e.what());
    }
    if (!threw) throw std::runtime_error("a malformed call did not throw nnet::Error");

    if (accuracy < 0.8) {
        std::printf("FAIL: accuracy below 0.8\n");
        return 1;
    }
    std::printf("OK\n");
    return 0;
} catch (const std::exception &e) {
    std::fprintf(stderr, "classify: %s\n", e.what());
    return 1;
}
