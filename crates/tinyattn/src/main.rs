fn main() -> std::process::ExitCode {
    keep_freed_memory();
    tinyattn::cli::main()
}

/// Every training step frees and allocates tensors of the same sizes again. glibc's defaults
/// hand freed blocks back to the kernel each time, and the next step faults the pages back in:
/// a quarter of a tiny training step on flex (measured with `perf`, see README "Speed").
#[cfg(all(target_os = "linux", target_env = "gnu"))]
fn keep_freed_memory() {
    use std::ffi::c_int;
    unsafe extern "C" {
        fn mallopt(param: c_int, value: c_int) -> c_int;
    }
    // From glibc's malloc.h.
    const M_TRIM_THRESHOLD: c_int = -1;
    const M_TOP_PAD: c_int = -2;
    const M_MMAP_THRESHOLD: c_int = -3;
    // SAFETY: mallopt only changes allocator tuning; it runs before any other thread exists.
    // A value glibc rejects leaves its default in place, which is still correct, only slower.
    unsafe {
        mallopt(M_TRIM_THRESHOLD, c_int::MAX);
        mallopt(M_TOP_PAD, 64 << 20);
        // The largest threshold glibc accepts on 64-bit targets (32 MiB).
        mallopt(M_MMAP_THRESHOLD, 32 << 20);
    }
}

#[cfg(not(all(target_os = "linux", target_env = "gnu")))]
fn keep_freed_memory() {}
