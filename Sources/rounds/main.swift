import CKernels
import Shell

// The model's working buffers come from the heap, not fresh pages (see CKernels.h).
rk_keep_buffers_in_heap()
Rounds.start()
