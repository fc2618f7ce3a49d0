/* OpenBLAS cblas_sgemm at the shapes of benches/gemm.rs, for the comparison printed beside
 * nnet's GEMM. C = X W with X (B x rows) and W (rows x cols) row-major, as the forward pass
 * of a layer. Usage: openblas_sgemm B:rows:cols ...; prints "B rows cols GFLOP/s" per shape
 * (the best of 15 timings of enough calls to last about 20 ms). */
#include <stdio.h>
#include <stdlib.h>
#include <time.h>

enum { RowMajor = 101, NoTrans = 111 };
void cblas_sgemm(int order, int ta, int tb, int m, int n, int k, float alpha, const float *a, int lda,
                 const float *b, int ldb, float beta, float *c, int ldc);
void openblas_set_num_threads(int);
char *openblas_get_corename(void);

static double now(void) {
    struct timespec t;
    clock_gettime(CLOCK_MONOTONIC, &t);
    return t.tv_sec + 1e-9 * t.tv_nsec;
}

int main(int argc, char **argv) {
    openblas_set_num_threads(1);
    fprintf(stderr, "OpenBLAS core %s\n", openblas_get_corename());
    for (int i = 1; i < argc; i++) {
        int b, rows, cols;
        if (sscanf(argv[i], "%d:%d:%d", &b, &rows, &cols) != 3) return 2;
        float *x = malloc(sizeof(float) * b * rows), *w = malloc(sizeof(float) * rows * cols);
        float *c = malloc(sizeof(float) * b * cols);
        if (!x || !w || !c) return 1;
        for (long j = 0; j < (long)b * rows; j++) x[j] = (float)((j * 7) % 13) * 0.1f;
        for (long j = 0; j < (long)rows * cols; j++) w[j] = (float)((j * 5) % 11) * 0.1f;
        double flops = 2.0 * b * rows * cols;
        long reps = 1;
        for (;;) {
            double t = now();
            for (long r = 0; r < reps; r++)
                cblas_sgemm(RowMajor, NoTrans, NoTrans, b, cols, rows, 1.0f, x, rows, w, cols, 0.0f, c, cols);
            if (now() - t > 0.02) break;
            reps *= 2;
        }
        double best = 1e30;
        for (int s = 0; s < 15; s++) {
            double t = now();
            for (long r = 0; r < reps; r++)
                cblas_sgemm(RowMajor, NoTrans, NoTrans, b, cols, rows, 1.0f, x, rows, w, cols, 0.0f, c, cols);
            t = (now() - t) / reps;
            if (t < best) best = t;
        }
        printf("%d %d %d %.2f\n", b, rows, cols, flops / best * 1e-9);
        free(x);
        free(w);
        free(c);
    }
    return 0;
}
