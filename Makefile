# NexusFlowMeter build. `make` builds ./nexusflowmeter; `make test` runs the whole suite;
# `make SAN=1 test` runs it under AddressSanitizer + UndefinedBehaviorSanitizer.
CC ?= cc
SAN ?= 0
PKGS := libpcap libzstd zlib liblz4

SANFLAGS := -fsanitize=address,undefined
ifeq ($(SAN),1)
BUILD ?= build-san
OPT ?= -O1 -fno-omit-frame-pointer $(SANFLAGS) -fno-sanitize-recover=all
else
BUILD ?= build
OPT ?= -O2
endif

WARN := -Wall -Wextra -Werror -Wshadow -Wstrict-prototypes -Wmissing-prototypes -Wvla
CPPFLAGS += -Isrc -D_GNU_SOURCE
CFLAGS += -std=c11 -g $(OPT) $(WARN) $(shell pkg-config --cflags $(PKGS) 2>/dev/null)
LDFLAGS += $(if $(filter 1,$(SAN)),$(SANFLAGS))
LDLIBS += $(shell pkg-config --libs $(PKGS) 2>/dev/null || echo -lpcap -lzstd -lz -llz4) -lm -lpthread

LIB_SRC := $(sort $(filter-out src/cli/%,$(wildcard src/*/*.c)))
CLI_SRC := $(sort $(wildcard src/cli/*.c))
LIB_OBJ := $(LIB_SRC:%.c=$(BUILD)/%.o)
CLI_OBJ := $(CLI_SRC:%.c=$(BUILD)/%.o)
UNIT_SRC := $(sort $(wildcard tests/unit/test_*.c))
UNIT_BIN := $(UNIT_SRC:tests/unit/%.c=$(BUILD)/tests/%)
TOOL_SRC := $(sort $(wildcard tests/tools/*.c))
TOOL_BIN := $(TOOL_SRC:tests/tools/%.c=$(BUILD)/tools/%)
PROG := $(if $(filter 1,$(SAN)),$(BUILD)/nexusflowmeter,nexusflowmeter)

.PHONY: all test check unit tools clean sample bench install fuzz fuzz-smoke docs
all: $(PROG) $(BUILD)/nfm-gencap $(BUILD)/nfm-readloop $(BUILD)/nfm-ourread

$(BUILD)/%.o: %.c
	@mkdir -p $(dir $@)
	$(CC) $(CPPFLAGS) $(CFLAGS) -MMD -MP -c $< -o $@

$(BUILD)/libnfm.a: $(LIB_OBJ)
	@rm -f $@
	ar rcs $@ $^

$(PROG): $(CLI_OBJ) $(BUILD)/libnfm.a
	$(CC) $(LDFLAGS) -o $@ $(CLI_OBJ) $(BUILD)/libnfm.a $(LDLIBS)

$(BUILD)/nfm-gencap: $(BUILD)/bench/gencap.o $(BUILD)/libnfm.a
	$(CC) $(LDFLAGS) -o $@ $^ $(LDLIBS)

# Benchmark baselines: a bare libpcap read loop, and the same loop over our reader.
$(BUILD)/nfm-readloop: $(BUILD)/bench/readloop.o
	$(CC) $(LDFLAGS) -o $@ $^ $(LDLIBS)

$(BUILD)/nfm-ourread: $(BUILD)/bench/ourread.o $(BUILD)/libnfm.a
	$(CC) $(LDFLAGS) -o $@ $^ $(LDLIBS)

# Test programs and tools include the shared test helpers of tests/lib (frame builders).
TEST_CPPFLAGS := -Itests/unit -Itests/lib

$(BUILD)/tests/%: tests/unit/%.c $(wildcard tests/unit/*.h tests/lib/*.h) $(BUILD)/libnfm.a
	@mkdir -p $(dir $@)
	$(CC) $(CPPFLAGS) $(TEST_CPPFLAGS) $(CFLAGS) -o $@ $< $(BUILD)/libnfm.a $(LDFLAGS) $(LDLIBS)

$(BUILD)/tools/%: tests/tools/%.c $(wildcard tests/lib/*.h) $(BUILD)/libnfm.a
	@mkdir -p $(dir $@)
	$(CC) $(CPPFLAGS) $(TEST_CPPFLAGS) $(CFLAGS) -o $@ $< $(BUILD)/libnfm.a $(LDFLAGS) $(LDLIBS)

unit: $(UNIT_BIN)
tools: $(TOOL_BIN)

# The whole suite with this build: unit tests, golden end-to-end tests, CLI tests, the
# shared-corpus run and the tshark differential test. Ends with "N passed, N failed".
test: $(PROG) $(BUILD)/nfm-gencap $(UNIT_BIN) $(TOOL_BIN)
	NFM_BUILD=$(BUILD) NFM_PROG=$(PROG) tests/run.sh

# What CI runs: the suite with the normal build and again under ASan+UBSan.
check:
	tests/check.sh

# The generated parts of docs/columns.md (from the field table) and docs/profiles.md
# (from the profile registry); unit tests fail when they are stale.
docs: $(BUILD)/tools/mkdocs
	$(BUILD)/tools/mkdocs docs/columns.md docs/profiles.md

# Makes a sample capture with the project's own generator and converts it.
sample: all
	$(BUILD)/nfm-gencap --packets 20000 --seed 1 sample.pcap
	./$(PROG) sample.pcap sample_flows.csv

# Fuzz targets (libFuzzer, clang). `make fuzz` runs each for FUZZ_SECONDS;
# `make fuzz-smoke` runs each for a fixed number of inputs (CI).
FUZZ_CC ?= clang
FUZZ_SECONDS ?= 60
FUZZ_RUNS ?= 20000
FUZZ_SRC := $(sort $(wildcard fuzz/fuzz_*.c))
FUZZ_BIN := $(FUZZ_SRC:fuzz/%.c=build-fuzz/%)
build-fuzz/%: fuzz/%.c $(LIB_SRC)
	@mkdir -p build-fuzz
	$(FUZZ_CC) $(CPPFLAGS) -std=c11 -g -O1 -fsanitize=fuzzer,address,undefined $(shell pkg-config --cflags $(PKGS) 2>/dev/null) -o $@ $< $(LIB_SRC) $(LDLIBS)
fuzz: $(FUZZ_BIN)
	@for f in $(FUZZ_BIN); do mkdir -p fuzz/corpus-$$(basename $$f); \
		$$f -max_total_time=$(FUZZ_SECONDS) fuzz/corpus-$$(basename $$f) || exit 1; done
fuzz-smoke: $(FUZZ_BIN)
	@for f in $(FUZZ_BIN); do $$f -runs=$(FUZZ_RUNS) -seed=1 || exit 1; done

# The benchmark against nfpcapd, argus, softflowd, tshark and the read-loop floors
# (docs/performance.md; peers: scripts/install-bench-deps.sh; BENCH_SCALE=small for a quick run).
bench: all $(BUILD)/nfm-readloop $(BUILD)/nfm-ourread
	NFM_BUILD=$(BUILD) NFM_PROG=./$(PROG) bench/run.sh

install: $(PROG)
	install -D -m 755 $(PROG) $(DESTDIR)$(or $(PREFIX),/usr/local)/bin/nexusflowmeter
	install -D -m 644 docs/nexusflowmeter.1 $(DESTDIR)$(or $(PREFIX),/usr/local)/share/man/man1/nexusflowmeter.1

clean:
	rm -rf build build-san build-fuzz nexusflowmeter

-include $(LIB_OBJ:.o=.d) $(CLI_OBJ:.o=.d)
