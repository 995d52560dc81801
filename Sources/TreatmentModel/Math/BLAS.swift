import COpenBLAS

/// Matrix products on row-major Float buffers, through OpenBLAS's `cblas_sgemm`.
///
/// Shapes are given as the logical shapes of the operands: `C[m×n] (+)= op(A)[m×k] · op(B)[k×n]`.
/// PyTorch stores a Linear weight as `[out, in]`, so `y = x·Wᵀ` is `gemm(x, W, transB: true)`.
enum BLAS {
    /// `C = alpha · op(A) · op(B) + beta · C`.
    @inline(__always)
    static func gemm(_ a: UnsafePointer<Float>, _ b: UnsafePointer<Float>, _ c: UnsafeMutablePointer<Float>,
                     m: Int, n: Int, k: Int, transA: Bool = false, transB: Bool = false,
                     alpha: Float = 1, beta: Float = 0) {
        guard m > 0, n > 0 else { return }
        if k == 0 {
            if beta == 0 { c.update(repeating: 0, count: m * n) } else if beta != 1 { for i in 0..<(m * n) { c[i] *= beta } }
            return
        }
        cblas_sgemm(CblasRowMajor, transA ? CblasTrans : CblasNoTrans, transB ? CblasTrans : CblasNoTrans,
                    Int32(m), Int32(n), Int32(k), alpha,
                    a, Int32(transA ? m : k), b, Int32(transB ? k : n), beta, c, Int32(n))
    }

    /// OpenBLAS worker threads (1 for the model's small products: faster, and reproducible).
    static func setThreads(_ n: Int) { openblas_set_num_threads(Int32(n)); configured = true }

    nonisolated(unsafe) private static var configured = false

    /// One thread unless someone chose otherwise. OpenBLAS starts as many threads as cores,
    /// and for products this small its idle workers spinning in sched_yield cost more than the
    /// products (measured: a third of a forward pass's time on two cores).
    @inline(__always) static func ensureConfigured() { if !configured { setThreads(1) } }
}
