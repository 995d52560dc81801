// The kernel bodies, included by kernels.c once per instruction set. RK_NAME(f) names this
// variant's copy of f, RK_TARGET is its target attribute (empty for the baseline), VW its vector
// width in floats and VF/VI/VU the float, int and unsigned vectors of that width.
// Arithmetic is written operation by operation as TreatmentModel's Swift reference of each
// formula; with contraction off, every variant rounds identically.

static inline RK_TARGET VF RK_NAME(load)(const float *p, long m) {
    VF v = {0};
    if (m == VW) { __builtin_memcpy(&v, p, sizeof v); return v; }
    for (long l = 0; l < m; l++) v[l] = p[l];
    return v;
}

static inline RK_TARGET void RK_NAME(store)(VF v, float *p, long m) {
    if (m == VW) { __builtin_memcpy(p, &v, sizeof v); return; }
    for (long l = 0; l < m; l++) p[l] = v[l];
}

static inline RK_TARGET VF RK_NAME(select)(VI mask, VF a, VF b) {
    return (VF)(((VI)a & mask) | ((VI)b & ~mask));
}

/// e^x: Cephes-style range reduction and polynomial (relative error about 2e-7), clamped to
/// [−87.3, 88.3]; NaN stays NaN.
static inline RK_TARGET VF RK_NAME(exp)(VF x) {
    const VF lo = SPLAT(-87.3f), hi = SPLAT(88.3f);
    x = RK_NAME(select)((VI)(x < lo), lo, x);
    x = RK_NAME(select)((VI)(x > hi), hi, x);
    // n = round(x / ln 2) by adding 1.5·2^23 (ties to even), r = x − n ln 2 with ln 2 in two parts.
    const VF magic = SPLAT(12582912.0f);
    VF shifted = x * SPLAT(1.44269504088896341f) + magic;
    VF n = shifted - magic;
    VF r = x - n * SPLAT(0.693359375f);
    r = r - n * SPLAT(-2.12194440e-4f);
    VF p = SPLAT(1.9875691500e-4f);
    p = p * r + SPLAT(1.3981999507e-3f);
    p = p * r + SPLAT(8.3334519073e-3f);
    p = p * r + SPLAT(4.1665795894e-2f);
    p = p * r + SPLAT(1.6666665459e-1f);
    p = p * r + SPLAT(5.0000001201e-1f);
    VF r2 = r * r;
    VF y = p * r2 + r + SPLAT(1.0f);
    // Scale by 2^n through the exponent bits.
    VU ni = (VU)shifted - ((VU){0} + 0x4B400000u);
    VU bits = (ni + 127u) << 23;
    return y * (VF)bits;
}

static inline RK_TARGET VF RK_NAME(sigmoid)(VF x) { return SPLAT(1.0f) / (SPLAT(1.0f) + RK_NAME(exp)(-x)); }
static inline RK_TARGET VF RK_NAME(tanh)(VF x) { return SPLAT(1.0f) - SPLAT(2.0f) / (RK_NAME(exp)(x + x) + SPLAT(1.0f)); }

static RK_TARGET void RK_NAME(exp_inplace)(float *p, long count) {
    for (long i = 0; i < count; i += VW) {
        long m = count - i < VW ? count - i : VW;
        RK_NAME(store)(RK_NAME(exp)(RK_NAME(load)(p + i, m)), p + i, m);
    }
}

static RK_TARGET void RK_NAME(sigmoid_inplace)(float *p, long count) {
    for (long i = 0; i < count; i += VW) {
        long m = count - i < VW ? count - i : VW;
        RK_NAME(store)(RK_NAME(sigmoid)(RK_NAME(load)(p + i, m)), p + i, m);
    }
}

static RK_TARGET void RK_NAME(tanh_inplace)(float *p, long count) {
    for (long i = 0; i < count; i += VW) {
        long m = count - i < VW ? count - i : VW;
        RK_NAME(store)(RK_NAME(tanh)(RK_NAME(load)(p + i, m)), p + i, m);
    }
}

/// The input projection of row b's gate values at j: gi's row b, or on a line, base + α_b·step.
static inline RK_TARGET VF RK_NAME(gate_input)(const float *gi, const float *gi_step, const float *alphas, long b, long g, long j, long m) {
    if (!alphas) return RK_NAME(load)(gi + g + j, m);
    return RK_NAME(load)(gi + j, m) + SPLAT(alphas[b]) * RK_NAME(load)(gi_step + j, m);
}

static RK_TARGET void RK_NAME(gru_step_forward)(long B, long H, long t, const long *lengths,
                                                const float *gi, const float *gi_step, const float *alphas,
                                                const float *gh, const float *bhh, const float *h_prev,
                                                float *r, float *z, float *n, float *ghn, float *h) {
    const VF one = SPLAT(1.0f);
    for (long b = 0; b < B; b++) {
        const long o = b * H, g = b * 3 * H;
        if (t >= lengths[b]) { __builtin_memcpy(h + o, h_prev + o, sizeof(float) * H); continue; }
        // In three sweeps over the row (r and z; n; h), so that the iterations of each sweep are
        // independent and the processor overlaps their long exp-and-divide chains.
        for (long j = 0; j < H; j += VW) {
            long m = H - j < VW ? H - j : VW;
            VF ghr = RK_NAME(load)(gh + g + j, m) + RK_NAME(load)(bhh + j, m);
            VF ghz = RK_NAME(load)(gh + g + H + j, m) + RK_NAME(load)(bhh + H + j, m);
            RK_NAME(store)(RK_NAME(sigmoid)(RK_NAME(gate_input)(gi, gi_step, alphas, b, g, j, m) + ghr), r + o + j, m);
            RK_NAME(store)(RK_NAME(sigmoid)(RK_NAME(gate_input)(gi, gi_step, alphas, b, g, H + j, m) + ghz), z + o + j, m);
        }
        for (long j = 0; j < H; j += VW) {
            long m = H - j < VW ? H - j : VW;
            VF ghnv = RK_NAME(load)(gh + g + 2 * H + j, m) + RK_NAME(load)(bhh + 2 * H + j, m);
            RK_NAME(store)(ghnv, ghn + o + j, m);
            RK_NAME(store)(RK_NAME(tanh)(RK_NAME(gate_input)(gi, gi_step, alphas, b, g, 2 * H + j, m) + RK_NAME(load)(r + o + j, m) * ghnv), n + o + j, m);
        }
        for (long j = 0; j < H; j += VW) {
            long m = H - j < VW ? H - j : VW;
            VF zv = RK_NAME(load)(z + o + j, m), nv = RK_NAME(load)(n + o + j, m);
            RK_NAME(store)((one - zv) * nv + zv * RK_NAME(load)(h_prev + o + j, m), h + o + j, m);
        }
    }
}

static RK_TARGET void RK_NAME(gru_step_backward)(long B, long H, long t, const long *lengths,
                                                 const float *r, const float *z, const float *n, const float *ghn,
                                                 const float *h_prev, const float *dh,
                                                 float *dgi, int sum_dgi, float *dgh, float *dprev) {
    const VF one = SPLAT(1.0f);
    for (long b = 0; b < B; b++) {
        const long o = b * H, g = b * 3 * H;
        float *dgib = sum_dgi ? dgi : dgi + g;
        if (t >= lengths[b]) {
            if (!sum_dgi) __builtin_memset(dgib, 0, sizeof(float) * 3 * H);
            __builtin_memset(dgh + g, 0, sizeof(float) * 3 * H);
            __builtin_memcpy(dprev + o, dh + o, sizeof(float) * H);
            continue;
        }
        for (long j = 0; j < H; j += VW) {
            long m = H - j < VW ? H - j : VW;
            VF rv = RK_NAME(load)(r + o + j, m), zv = RK_NAME(load)(z + o + j, m);
            VF nv = RK_NAME(load)(n + o + j, m), gv = RK_NAME(load)(ghn + o + j, m);
            VF hp = RK_NAME(load)(h_prev + o + j, m), d = RK_NAME(load)(dh + o + j, m);
            VF dn = d * (one - zv);
            VF dz = d * (hp - nv);
            VF dan = dn * (one - nv * nv);
            VF dr = dan * gv;
            VF dpr = dr * rv * (one - rv);
            VF dpz = dz * zv * (one - zv);
            if (sum_dgi) {
                RK_NAME(store)(RK_NAME(load)(dgib + j, m) + dpr, dgib + j, m);
                RK_NAME(store)(RK_NAME(load)(dgib + H + j, m) + dpz, dgib + H + j, m);
                RK_NAME(store)(RK_NAME(load)(dgib + 2 * H + j, m) + dan, dgib + 2 * H + j, m);
            } else {
                RK_NAME(store)(dpr, dgib + j, m);
                RK_NAME(store)(dpz, dgib + H + j, m);
                RK_NAME(store)(dan, dgib + 2 * H + j, m);
            }
            RK_NAME(store)(dpr, dgh + g + j, m);
            RK_NAME(store)(dpz, dgh + g + H + j, m);
            RK_NAME(store)(dan * rv, dgh + g + 2 * H + j, m);
            RK_NAME(store)(d * zv, dprev + o + j, m);
        }
    }
}
