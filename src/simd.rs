//! Run-time choice of the instruction set for the hot loops: a loop body written once is
//! compiled twice, for AVX2 (used when the CPU has it) and for the baseline target. No fused
//! multiply-add is enabled, so both forms do the same operations in the same order and give
//! bit-identical results.

/// `avx2_dispatch!(/// docs  fn name(arg: Type, ...) { body });` defines `fn name` whose body
/// runs compiled with AVX2 where the CPU has it, else as compiled for the baseline target.
macro_rules! avx2_dispatch {
    ($(#[$doc:meta])* fn $name:ident ( $($arg:ident : $ty:ty),* $(,)? ) $body:block) => {
        $(#[$doc])*
        fn $name($($arg: $ty),*) {
            #[inline(always)]
            fn lanes($($arg: $ty),*) $body
            #[cfg(target_arch = "x86_64")]
            {
                #[target_feature(enable = "avx2")]
                unsafe fn with_avx2($($arg: $ty),*) {
                    lanes($($arg),*)
                }
                if std::arch::is_x86_feature_detected!("avx2") {
                    // SAFETY: the CPU supports AVX2 (checked just above).
                    unsafe { with_avx2($($arg),*) };
                    return;
                }
            }
            lanes($($arg),*)
        }
    };
}

pub(crate) use avx2_dispatch;
