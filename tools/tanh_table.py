"""Generates TANH_TABLE of src/kernels/x86_64/avx512.rs (needs mpmath; about 30 s).

tanh on |x| in [0, 9.5] as 30 degree-5 polynomials in u = |x| - center:
  interval 0: [0, 2^-4), the odd Taylor polynomial x - x^3/3 + 2x^5/15 (tiny x gives x exactly);
  intervals 1..28: the quarter-binades of [2^-4, 8); interval 29: [8, 9.5].
Each center is an f32 near the middle whose tanh is (almost) an f32 value c0, so that the constant
term carries no rounding; c1..c5 are near-minimax (Lawson iterations) for the error in ULP of the
result. Prints a summary per interval on stdout and writes the Rust rows to table.rs.

    python3 tools/tanh_table.py
"""
import mpmath as mp, struct
mp.mp.dps = 40
def f32(v): return struct.unpack('f', struct.pack('f', float(v)))[0]
def bits(v): return struct.unpack('I', struct.pack('f', v))[0]
def fbits(b): return struct.unpack('f', struct.pack('I', b))[0]
DEG = 5
intervals = [(mp.mpf(0), mp.mpf(2)**-4)]
for b in range(-4, 3):
    for q in range(4):
        lo = mp.mpf(2)**b * (1 + mp.mpf(q)/4); hi = mp.mpf(2)**b * (1 + mp.mpf(q+1)/4)
        intervals.append((lo, hi))
intervals.append((mp.mpf(8), mp.mpf('9.5')))
assert len(intervals) == 30
def ulp(v):
    v = abs(v); e = mp.floor(mp.log(v, 2)); return mp.mpf(2)**(e-23)
rows = []
for j, (lo, hi) in enumerate(intervals):
    if j == 0:
        rows.append([0.0, 0.0, 1.0, 0.0, f32(mp.mpf(-1)/3), 0.0, f32(mp.mpf(2)/15)])
        continue
    T = f32(mp.tanh((lo+hi)/2))
    cstar = f32(mp.atanh(T)) if T < 1 else f32((lo+hi)/2)
    mb = bits(cstar)
    best = None
    for d in range(-400, 401, 1):
        c = fbits(mb + d); t = mp.tanh(c); e = abs(t - f32(t))/ulp(t)
        if best is None or e < best[0]: best = (e, c)
    e, c = best
    c = mp.mpf(c); c0 = mp.mpf(f32(mp.tanh(c)))
    # g(u) = (tanh(c+u) - c0)/u, Chebyshev interpolation of degree DEG-1 on [lo-c, hi-c]
    a, b_ = lo - c, hi - c
    n = DEG
    nodes = [ (a+b_)/2 + (b_-a)/2*mp.cos(mp.pi*(2*k+1)/(2*n)) for k in range(n)]
    g = lambda u: (mp.tanh(c+u) - c0)/u if u != 0 else mp.sech(c)**2
    # solve Vandermonde for monomial coefficients in u
    V = mp.matrix([[u**i for i in range(n)] for u in nodes]); gv = mp.matrix([g(u) for u in nodes])
    co = mp.lu_solve(V, gv)
    # Lawson iterations: minimize max |c0 + u g(u) - tanh(c+u)| / ulp(tanh(c+u))
    pts = [a + (b_-a)*(1-mp.cos(mp.pi*(k+0.5)/120))/2 for k in range(120)]
    gp = [g(u) for u in pts]; wp = [abs(u)/ulp(mp.tanh(c+u)) for u in pts]
    lw = [mp.mpf(1)/120]*120
    for it in range(25):
        A = mp.matrix(n, n); rhs = mp.matrix(n, 1)
        for k in range(120):
            bk = [pts[k]**i for i in range(n)]; sw = lw[k]*wp[k]**2
            for i in range(n):
                rhs[i] += sw*bk[i]*gp[k]
                for jj in range(n): A[i, jj] += sw*bk[i]*bk[jj]
        co = mp.lu_solve(A, rhs)
        errs = [abs(sum(co[i]*pts[k]**i for i in range(n)) - gp[k])*wp[k] for k in range(120)]
        tot = sum(lw[k]*errs[k] for k in range(120)); lw = [lw[k]*errs[k]/tot for k in range(120)]
    # max relative error of the real-coefficient poly (before f32 rounding)
    mx = 0
    for k in range(200):
        u = a + (b_-a)*k/199
        p = c0 + u*sum(co[i]*u**i for i in range(n))
        t = mp.tanh(c+u); mx = max(mx, abs(p-t)/ulp(t))
    rows.append([float(c), float(c0)] + [f32(co[i]) for i in range(n)])
    print(f"# {j:2d} [{float(lo):.6g}, {float(hi):.6g}) c={float(c):.9g} c0 err {float(e):.4f} ulp, approx err {float(mx):.4f} ulp")
# output as Rust arrays: TABLE[k][j] for k in 0..7 (center, c0..c5)
def short(v):
    v = f32(v)
    if v == 0: return "0.0"
    for n in range(1, 18):
        t = "%.*e" % (n - 1, v)
        if f32(float(t)) == v:
            m, e = t.split("e"); e = int(e)
            return f"{m}e{e}" if e != 0 else (m if "." in m else m + ".0")
names = ["center", "c0", "c1", "c2", "c3", "c4", "c5"]
out = []
for k in range(7):
    vals = [rows[j][k] for j in range(30)] + [0.0, 0.0]
    out.append("    // " + names[k] + "\n    [\n" + "".join(f"        {short(v)},\n" for v in vals) + "    ],\n")
open('table.rs','w').write("".join(out))
