// Classification from C++ through a small RAII wrapper that throws on errors: reads a CSV
// (one header line, feature columns, then an integer class 0..K-1 in the last column), trains a
// d-H-K tanh network on +-1 one-hot targets with early stopping, and prints test accuracy.
//
//   usage: classify train.csv test.csv [hidden-units]
//   e.g.   classify data/sklearn-iris/iris.train.csv data/sklearn-iris/iris.test.csv
#include <algorithm>
#include <cstdio>
#include <fstream>
#include <limits>
#include <sstream>
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

}  // namespace nnet

struct Table {
    std::vector<float> x;
    std::vector<int> label;
    size_t n_in = 0;
};

static Table read_csv(const std::string &path) {
    std::ifstream in(path);
    if (!in) throw std::runtime_error("cannot open " + path);
    std::string line;
    std::getline(in, line);  // header
    Table t;
    while (std::getline(in, line)) {
        if (line.empty()) continue;
        std::vector<float> row;
        std::stringstream ss(line);
        std::string cell;
        while (std::getline(ss, cell, ',')) row.push_back(std::stof(cell));
        if (row.size() < 2) throw std::runtime_error(path + ": a row with fewer than 2 columns");
        if (t.n_in == 0) t.n_in = row.size() - 1;
        if (row.size() - 1 != t.n_in) throw std::runtime_error(path + ": ragged rows");
        t.x.insert(t.x.end(), row.begin(), row.end() - 1);
        t.label.push_back(static_cast<int>(row.back()));
    }
    if (t.label.empty()) throw std::runtime_error(path + ": no rows");
    return t;
}

static std::vector<float> one_hot(const std::vector<int> &labels, size_t k) {
    std::vector<float> y(labels.size() * k, -1.0f);
    for (size_t i = 0; i < labels.size(); i++) y[i * k + static_cast<size_t>(labels[i])] = 1.0f;
    return y;
}

int main(int argc, char **argv) try {
    if (argc < 3 || argc > 4) {
        std::fprintf(stderr, "usage: %s train.csv test.csv [hidden-units]\n", argv[0]);
        return 2;
    }
    Table train = read_csv(argv[1]), test = read_csv(argv[2]);
    size_t hidden = argc == 4 ? std::stoul(argv[3]) : 16;
    if (test.n_in != train.n_in) throw std::runtime_error("train and test have different columns");
    int max_label = 0;
    for (int l : train.label) {
        if (l < 0) throw std::runtime_error("negative class label");
        max_label = std::max(max_label, l);
    }
    size_t k = static_cast<size_t>(max_label) + 1;
    for (int l : test.label)
        if (l < 0 || static_cast<size_t>(l) >= k) throw std::runtime_error("test class not in train");

    // every 5th training row validates (early stopping), the rest trains
    std::vector<float> tx, vx;
    std::vector<int> tl, vl;
    for (size_t i = 0; i < train.label.size(); i++) {
        bool val = i % 5 == 4;
        auto first = train.x.begin() + static_cast<std::ptrdiff_t>(i * train.n_in);
        (val ? vx : tx).insert((val ? vx : tx).end(), first, first + static_cast<std::ptrdiff_t>(train.n_in));
        (val ? vl : tl).push_back(train.label[i]);
    }

    std::printf("nnet %s, kernels %s\n", nnet_version(), nnet_isa());
    std::printf("%zu-%zu-%zu tanh network, %zu training rows (%zu validate), %zu test rows\n",
                train.n_in, hidden, k, tl.size(), vl.size(), test.label.size());

    nnet::Network net({train.n_in, hidden, k}, NNET_OUTPUT_TANH, 1, 0.1f);
    net.fit_scaling(tx);
    NnetTrainConfig cfg = nnet_train_config_default();
    cfg.learning_rate = 0.01f;
    cfg.epochs = 200;
    cfg.patience = 20;
    cfg.seed = 5;
    NnetTrainReport r = net.train(cfg, tx, one_hot(tl, k), vx, one_hot(vl, k));
    std::printf("trained: %u epochs, best %u, E_in %.4f, E_val %.4f\n", r.epochs_run,
                r.best_epoch, r.train_error, r.validation_error);

    // a copy predicts the same; the original keeps working after the copy is gone
    std::vector<float> classes = net.clone().classify(test.x);
    size_t correct = 0;
    for (size_t i = 0; i < classes.size(); i++) correct += classes[i] == static_cast<float>(test.label[i]);
    double accuracy = static_cast<double>(correct) / static_cast<double>(classes.size());
    std::printf("test accuracy %.4f (%zu of %zu)\n", accuracy, correct, classes.size());
    if (net.classify(test.x) != classes) throw std::runtime_error("the clone classifies differently");

    // errors arrive as exceptions carrying the status and the library's message
    bool threw = false;
    try {
        std::vector<float> bad(test.x.begin(), test.x.begin() + static_cast<std::ptrdiff_t>(train.n_in));
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
