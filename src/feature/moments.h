/* Exact moments of integer samples (packet sizes, gaps in ms): the count and the sum
 * are the caller's (64-bit integers), the sum of squares is kept in 128 bits, stored as
 * two 64-bit halves because module state is at most 8-byte aligned. Statistics computed
 * from these sums do not depend on the order in which the samples were added, so they
 * are the same for any number of workers. */
#ifndef NFM_FEATURE_MOMENTS_H
#define NFM_FEATURE_MOMENTS_H

#include <math.h>
#include <stdint.h>

__extension__ typedef unsigned __int128 nfm_u128;

struct nfm_sumsq {
	uint64_t lo, hi;
};

static inline nfm_u128 nfm_sumsq_get(const struct nfm_sumsq *s)
{
	return (nfm_u128)s->hi << 64 | s->lo;
}

static inline void nfm_sumsq_set(struct nfm_sumsq *s, nfm_u128 v)
{
	s->lo = (uint64_t)v;
	s->hi = (uint64_t)(v >> 64);
}

/* Adds x^2 (x < 2^64: x^2 < 2^128; the sum wraps only past 2^128, beyond any flow). */
static inline void nfm_sumsq_add(struct nfm_sumsq *s, uint64_t x)
{
	nfm_sumsq_set(s, nfm_sumsq_get(s) + (nfm_u128)x * x);
}

/* sum / n, 0 for n = 0. */
static inline double nfm_moment_mean(uint64_t sum, uint64_t n)
{
	return n ? (double)((long double)sum / (long double)n) : 0.0;
}

/* The sample standard deviation (n - 1 in the denominator) of n samples with this sum
 * and sum of squares; 0 for n < 2. The variance is (n * sumsq - sum^2) / (n * (n - 1)),
 * the numerator and denominator exact in 128 bits (the numerator is never negative, by
 * the Cauchy-Schwarz inequality), divided in long double. Only when n * sumsq does not
 * fit 128 bits (far beyond any real flow) is the numerator computed in long double. */
static inline double nfm_moment_sample_std(uint64_t n, uint64_t sum, nfm_u128 sumsq)
{
	if (n < 2)
		return 0.0;
	nfm_u128 den = (nfm_u128)n * (n - 1);
	long double var;
	if (sumsq >> 64 == 0 || n <= ~(nfm_u128)0 / sumsq) {
		nfm_u128 num = sumsq * n - (nfm_u128)sum * sum;
		var = (long double)num / (long double)den;
	} else {
		long double mean = (long double)sum / (long double)n;
		var = ((long double)sumsq - mean * (long double)sum) / (long double)(n - 1);
		if (var < 0)
			var = 0;
	}
	return (double)sqrtl(var);
}

#endif
