// Run-time choice of the machine's vector units for the CPU kernels, with one portable build: a function marked
// BTS_VECTOR_CLONES is compiled for AVX-512 (x86-64-v4), AVX2 + FMA (x86-64-v3) and baseline x86-64, and the loader
// picks the best the CPU has (GCC/Clang target_clones, an ifunc). In the v3/v4 copies fmaf() is the hardware FMA
// instruction instead of glibc's software emulation; both are correctly rounded, so the results are the same bits.
//
// The arithmetic does not change with the clone: the build never contracts a*b+c into an FMA (-ffp-contract=off),
// and kernels whose sums a vectoriser could reorder spell their order out (explicit lanes), so every clone computes
// the same values. Off in sanitizer builds (ifunc resolvers run before the sanitizer runtime) and off x86-64.
#pragma once

#if defined(__SANITIZE_ADDRESS__)
#define BTS_NO_CLONES 1
#elif defined(__has_feature)
#if __has_feature(address_sanitizer)
#define BTS_NO_CLONES 1
#endif
#endif

#if defined(__x86_64__) && (defined(__GNUC__) || defined(__clang__)) && !defined(BTS_NO_CLONES)
#define BTS_VECTOR_CLONES __attribute__((target_clones("arch=x86-64-v4", "arch=x86-64-v3", "default")))
#else
#define BTS_VECTOR_CLONES
#endif

// For the bodies the clones share: inlined into each clone, so each is compiled for that clone's vector units.
#define BTS_INLINE_BODY inline __attribute__((always_inline))
