/* A tiny in-process test runner: each tests/unit/test_*.c is one program that runs its
 * test functions and ends with "N passed, N failed" (counting test functions).
 * Plain C so ASan, valgrind and gdb work directly. */
#ifndef NFM_TEST_H
#define NFM_TEST_H

#include <stdio.h>
#include <string.h>

struct nfm_test_state {
	int passed, failed, cur_failed;
	const char *cur;
};

/* The runner's state lives in main's frame; tests get a pointer. */
#define NFM_TEST(name) static void name(struct nfm_test_state *nfm_t_)

#define CHECK(cond) \
	do { \
		if (!(cond)) { \
			fprintf(stderr, "FAIL %s: %s:%d: %s\n", nfm_t_->cur, __FILE__, __LINE__, #cond); \
			nfm_t_->cur_failed++; \
		} \
	} while (0)

#define CHECK_EQ_U(a, b) \
	do { \
		unsigned long long va_ = (unsigned long long)(a), vb_ = (unsigned long long)(b); \
		if (va_ != vb_) { \
			fprintf(stderr, "FAIL %s: %s:%d: %s == %s (%llu != %llu)\n", nfm_t_->cur, \
				__FILE__, __LINE__, #a, #b, va_, vb_); \
			nfm_t_->cur_failed++; \
		} \
	} while (0)

#define CHECK_STR(a, b) \
	do { \
		const char *sa_ = (a), *sb_ = (b); \
		if (!sa_ || !sb_ || strcmp(sa_, sb_) != 0) { \
			fprintf(stderr, "FAIL %s: %s:%d: %s == %s (\"%s\" != \"%s\")\n", nfm_t_->cur, \
				__FILE__, __LINE__, #a, #b, sa_ ? sa_ : "(null)", sb_ ? sb_ : "(null)"); \
			nfm_t_->cur_failed++; \
		} \
	} while (0)

#define RUN(name) \
	do { \
		st.cur = #name; \
		st.cur_failed = 0; \
		name(&st); \
		if (st.cur_failed) st.failed++; else st.passed++; \
	} while (0)

#define NFM_TEST_MAIN_BEGIN() \
	int main(void) \
	{ \
		struct nfm_test_state st = { 0, 0, 0, "" };

#define NFM_TEST_MAIN_END() \
		printf("%d passed, %d failed\n", st.passed, st.failed); \
		return st.failed ? 1 : 0; \
	}

#endif
