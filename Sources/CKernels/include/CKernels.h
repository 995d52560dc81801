// Elementwise kernels of the treatment model, in C so that each can be compiled for AVX-512 and
// AVX2 as well as for the baseline instruction set and chosen at run time (Swift compiles a
// module for one target CPU only). All variants do the same IEEE operations in the same order,
// without fused multiply-adds, so they give the same bits; AVX-512 does sixteen lanes per
// instruction, AVX2 eight, the baseline four.
//
// Layouts follow TreatmentModel's GRU and AttentionPooling: rows of a batch are contiguous,
// gates ordered r, z, n as in PyTorch.
#ifndef ROUNDS_CKERNELS_H
#define ROUNDS_CKERNELS_H

/// In place: p[i] = e^(p[i]) (clamped to [−87.3, 88.3]; relative error about 2e-7).
void rk_exp(float *p, long count);
/// In place: p[i] = 1 / (1 + e^(−p[i])).
void rk_sigmoid(float *p, long count);
/// In place: p[i] = 1 − 2 / (e^(2·p[i]) + 1).
void rk_tanh(float *p, long count);

/// One GRU time step t for a batch of B sequences (hidden size H):
///   r = σ(gi_r + gh_r + b_hr), z = σ(gi_z + gh_z + b_hz), ghn = gh_n + b_hn,
///   n = tanh(gi_n + r ⊙ ghn), h = (1 − z) ⊙ n + z ⊙ h_prev;
/// a sequence already past its length (t ≥ lengths[b]) keeps h_prev and its gate rows are left alone.
/// gi, gh: [B, 3H] (gh = W_hh h_prev without its bias); h_prev, r, z, n, ghn, h: [B, H].
/// With alphas (points on a line, as integrated gradients asks), gi is one row [3H] and row b's
/// input projection is gi + alphas[b] · gi_step, computed here instead of stored; otherwise
/// gi_step and alphas are NULL.
void rk_gru_step_forward(long B, long H, long t, const long *lengths,
                         const float *gi, const float *gi_step, const float *alphas,
                         const float *gh, const float *bhh, const float *h_prev,
                         float *r, float *z, float *n, float *ghn, float *h);

/// The backward of that step, given dh (the gradient reaching h_t): writes dgi [B, 3H] (the
/// gradient of gi) or, when sum_dgi is set, adds the batch's rows in order into dgi [3H] (all an
/// explanation along one path needs); writes dgh [B, 3H] (of W_hh h_prev + b_hh) and dprev [B, H]
/// (the part of dh_{t−1} that flows through the z gate; the W_hh part is added by a product
/// afterwards). Sequences past their length pass dh through unchanged and get zero gate gradients.
void rk_gru_step_backward(long B, long H, long t, const long *lengths,
                          const float *r, const float *z, const float *n, const float *ghn,
                          const float *h_prev, const float *dh,
                          float *dgi, int sum_dgi, float *dgh, float *dprev);

/// Which variant runs: "avx512", "avx2" (the best the CPU has) or "baseline".
const char *rk_variant(void);
/// Chooses the variant: 0 baseline, 1 AVX2, 2 AVX-512, capped at what the CPU has; returns the
/// level chosen. Tests use it to hold the variants to the same bits.
int rk_select(int level);

/// Process memory policy for the model's working buffers (glibc only; elsewhere nothing):
/// serve allocations up to 32 MB from the heap and keep up to 64 MB of freed heap. glibc maps
/// each allocation above its (adaptive) mmap threshold afresh and unmaps it on free, so every
/// explanation paid tens of thousands of page faults for its 0.1–2 MB buffers (a fifth of its
/// time). Called once by the `rounds` executable at start.
void rk_keep_buffers_in_heap(void);

#endif
