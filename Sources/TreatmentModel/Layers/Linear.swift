/// A fully connected layer as PyTorch's `nn.Linear`: `y = x·Wᵀ + b`, W stored `[out, in]`.
enum Linear {
    /// x `[n, in]`, W `[out, in]`, b `[out]` (or nil) → y `[n, out]`.
    static func forward(x: UnsafePointer<Float>, w: UnsafePointer<Float>, b: UnsafePointer<Float>?,
                        y: UnsafeMutablePointer<Float>, n: Int, in inDim: Int, out outDim: Int) {
        BLAS.gemm(x, w, y, m: n, n: outDim, k: inDim, transB: true)
        if let b {
            for i in 0..<n {
                let row = y + i * outDim
                for j in 0..<outDim { row[j] += b[j] }
            }
        }
    }

    /// Given dy `[n, out]`: dW `[out, in]` += dyᵀ·x and db += Σ dy when they are wanted (an
    /// explanation needs only dx), and dx `[n, in]` = dy·W (added to dx when `accumulate`).
    static func backward(dy: UnsafePointer<Float>, x: UnsafePointer<Float>, w: UnsafePointer<Float>,
                         dw: UnsafeMutablePointer<Float>?, db: UnsafeMutablePointer<Float>?, dx: UnsafeMutablePointer<Float>?,
                         n: Int, in inDim: Int, out outDim: Int, accumulate: Bool = false) {
        if let dw { BLAS.gemm(dy, x, dw, m: outDim, n: inDim, k: n, transA: true, beta: 1) }
        if let db {
            for i in 0..<n {
                let row = dy + i * outDim
                for j in 0..<outDim { db[j] += row[j] }
            }
        }
        if let dx { BLAS.gemm(dy, w, dx, m: n, n: inDim, k: outDim, beta: accumulate ? 1 : 0) }
    }
}
