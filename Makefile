# evault: see README.md. `make` builds ./evault; `make test`, `make bench`,
# `make demo`, `make install PREFIX=/usr/local DESTDIR=`.
.DELETE_ON_ERROR:
.PHONY: all deps test unit-test sys-test cli-test bench demo install clean fuzz

PREFIX ?= /usr/local
DESTDIR ?=
CC ?= cc
PKGS := libsodium sqlite3 libarchive nettle libmagic
# libcsv ships no pkg-config file: linked by name.
LIBCSV := -lcsv
TEST_PKGS := cmocka
# Debian packages providing the libraries and tools the build and tests use.
DEB_PKGS := build-essential pkg-config libsodium-dev libsqlite3-dev \
            libarchive-dev nettle-dev libmagic-dev libcsv-dev libcmocka-dev \
            sqlite3 minisign age file curl ca-certificates nodejs \
            clang libclang-rt-14-dev

PKG_CFLAGS := $(shell pkg-config --cflags $(PKGS) 2>/dev/null)
PKG_LIBS := $(shell pkg-config --libs $(PKGS) 2>/dev/null)
CMOCKA_CFLAGS := $(shell pkg-config --cflags $(TEST_PKGS) 2>/dev/null)
CMOCKA_LIBS := $(shell pkg-config --libs $(TEST_PKGS) 2>/dev/null)

WARN := -Wall -Wextra -Wpedantic -Wformat=2 -Wvla -Wstrict-prototypes \
        -Wmissing-prototypes -Wshadow
HARDEN := -fstack-protector-strong -D_FORTIFY_SOURCE=2 -fPIE
HARDEN_LD := -pie -Wl,-z,relro,-z,now,-z,noexecstack
OPT ?= -O2 -g
ifdef WERROR
WARN += -Werror
endif
ifdef SANITIZE
OPT := -O1 -g -fno-omit-frame-pointer -fsanitize=address,undefined \
       -fno-sanitize-recover=undefined
HARDEN := -fPIE
HARDEN_LD += -fsanitize=address,undefined
BUILD ?= build/san
else
BUILD ?= build/rel
endif

CFLAGS_ALL := -std=c11 -D_POSIX_C_SOURCE=200809L -pthread $(WARN) $(HARDEN) $(OPT) \
              $(PKG_CFLAGS) $(CFLAGS)
LDFLAGS_ALL := -pthread $(HARDEN_LD) $(LDFLAGS)
LIBS := $(PKG_LIBS) $(LIBCSV)

LIB_SRC := $(wildcard crypto/*.c) $(wildcard vault/*.c)
CLI_SRC := $(wildcard cli/*.c)
LIB_OBJ := $(LIB_SRC:%.c=$(BUILD)/%.o)
CLI_OBJ := $(CLI_SRC:%.c=$(BUILD)/%.o)
LIBEV := $(BUILD)/libevault.a

UNIT_SRC := $(wildcard tests/unit/test_*.c)
UNIT_BIN := $(UNIT_SRC:tests/unit/%.c=$(BUILD)/tests/%)
SYS_SRC := $(wildcard tests/sys/test_*.c)
SYS_BIN := $(SYS_SRC:tests/sys/%.c=$(BUILD)/tests/%)
# libFuzzer targets: clang only; each links the library sources it needs.
FUZZ_SRC := $(wildcard tests/fuzz/fuzz_*.c)
FUZZ_BIN := $(FUZZ_SRC:tests/fuzz/%.c=$(BUILD)/fuzz/%)
FUZZ_CC ?= clang
FUZZ_FLAGS := -g -O1 -fsanitize=fuzzer,address,undefined \
              -fno-sanitize-recover=undefined -std=c11 -D_POSIX_C_SOURCE=200809L
TOOL_SRC := $(wildcard tests/tools/*.c)
TOOL_BIN := $(TOOL_SRC:tests/tools/%.c=$(BUILD)/tests/tools/%)
TESTLIB_SRC := $(wildcard tests/lib/*.c)
TESTLIB_OBJ := $(TESTLIB_SRC:%.c=$(BUILD)/%.o)

all: evault

evault: $(BUILD)/evault
	cp $< $@

$(BUILD)/evault: $(CLI_OBJ) $(LIBEV)
	$(CC) $(CFLAGS_ALL) -o $@ $(CLI_OBJ) $(LIBEV) $(LDFLAGS_ALL) $(LIBS)

$(LIBEV): $(LIB_OBJ)
	rm -f $@
	ar rcs $@ $^

$(BUILD)/%.o: %.c
	@mkdir -p $(dir $@)
	$(CC) $(CFLAGS_ALL) $(CMOCKA_CFLAGS) -MMD -MP -c -o $@ $<

$(BUILD)/tests/test_%: tests/unit/test_%.c $(TESTLIB_OBJ) $(LIBEV)
	@mkdir -p $(dir $@)
	$(CC) $(CFLAGS_ALL) $(CMOCKA_CFLAGS) -o $@ $< $(TESTLIB_OBJ) $(LIBEV) \
	  $(LDFLAGS_ALL) $(CMOCKA_LIBS) $(LIBS)

$(BUILD)/tests/test_%: tests/sys/test_%.c $(TESTLIB_OBJ) $(LIBEV)
	@mkdir -p $(dir $@)
	$(CC) $(CFLAGS_ALL) $(CMOCKA_CFLAGS) -o $@ $< $(TESTLIB_OBJ) $(LIBEV) \
	  $(LDFLAGS_ALL) $(CMOCKA_LIBS) $(LIBS)

# test-only tools the CLI tests drive (never installed)
$(BUILD)/tests/tools/%: tests/tools/%.c $(LIBEV)
	@mkdir -p $(dir $@)
	$(CC) $(CFLAGS_ALL) -o $@ $< $(LIBEV) $(LDFLAGS_ALL) $(LIBS)

$(BUILD)/fuzz/fuzz_age: tests/fuzz/fuzz_age.c crypto/age.c crypto/age.h
	@mkdir -p $(dir $@)
	$(FUZZ_CC) $(FUZZ_FLAGS) -o $@ tests/fuzz/fuzz_age.c crypto/age.c \
	  $$(pkg-config --cflags --libs libsodium)

$(BUILD)/fuzz/fuzz_bag: tests/fuzz/fuzz_bag.c vault/bag.c vault/bag.h vault/report.c vault/err.c
	@mkdir -p $(dir $@)
	$(FUZZ_CC) $(FUZZ_FLAGS) -o $@ tests/fuzz/fuzz_bag.c vault/bag.c \
	  vault/report.c vault/err.c $$(pkg-config --cflags --libs nettle)

$(BUILD)/fuzz/fuzz_tar: tests/fuzz/fuzz_tar.c vault/tarbag.c vault/tarbag.h vault/bag.c vault/bag.h vault/report.c vault/err.c
	@mkdir -p $(dir $@)
	$(FUZZ_CC) $(FUZZ_FLAGS) -o $@ tests/fuzz/fuzz_tar.c vault/tarbag.c \
	  vault/bag.c vault/report.c vault/err.c \
	  $$(pkg-config --cflags --libs nettle libsodium libarchive)

# `make fuzz`: each target for FUZZ_SECONDS (default 300), corpus kept in
# $(BUILD)/fuzz/corpus-NAME (new inputs never land in the tracked seeds).
fuzz: deps $(FUZZ_BIN)
	@for t in $(FUZZ_BIN); do n=$$(basename $$t); mkdir -p $(BUILD)/fuzz/corpus-$$n; \
	  echo "== $$n"; $$t -max_total_time=$${FUZZ_SECONDS:-300} -print_final_stats=1 \
	    $(BUILD)/fuzz/corpus-$$n tests/fuzz/corpus/$${n#fuzz_} || exit 1; done

# Install missing Debian packages (as root), or say exactly what to run.
deps:
	@./tests/deps.sh $(DEB_PKGS)

test: deps
	$(MAKE) --no-print-directory $(BUILD)/evault $(UNIT_BIN) $(SYS_BIN) \
	  $(TOOL_BIN) $(FUZZ_BIN)
	@BUILD=$(BUILD) ./tests/run.sh

# Builds its own binaries under $(BUILD) (never ./evault, which other work
# may share); bench/run.sh installs SQLCipher and builds the rest.
bench: deps
	$(MAKE) --no-print-directory $(BUILD)/evault $(BUILD)/bench/bench_sql
	@BUILD=$(BUILD) MAKE="$(MAKE)" ./bench/run.sh

demo: deps
	$(MAKE) --no-print-directory evault
	@./examples/demo.sh

# ---- bench: the container benchmark (bench/run.sh drives these) ----------
# bench_sql: the workload on plain SQLite and on a vault (libsqlite3).
$(BUILD)/bench/bench_sql: bench/bench_sql.c $(LIBEV)
	@mkdir -p $(dir $@)
	$(CC) $(CFLAGS_ALL) -MMD -MP -o $@ $< $(LIBEV) $(LDFLAGS_ALL) $(LIBS)

# bench_sqlcipher: the same source against Debian's libsqlcipher, whose
# symbols clash with libsqlite3's (hence a binary of its own). pkg-config runs
# in the recipe: bench/run.sh installs libsqlcipher-dev just before.
$(BUILD)/bench/bench_sqlcipher: bench/bench_sql.c
	@mkdir -p $(dir $@)
	$(CC) -DBENCH_SQLCIPHER $$(pkg-config --cflags sqlcipher) $(CFLAGS_ALL) \
	  -o $@ $< $(LDFLAGS_ALL) $$(pkg-config --libs sqlcipher)

# bench_query: query times on a vault of 100,000 incidents and 300,000 actors.
$(BUILD)/bench/bench_query: bench/bench_query.c $(LIBEV)
	@mkdir -p $(dir $@)
	$(CC) $(CFLAGS_ALL) -MMD -MP -o $@ $< $(LIBEV) $(LDFLAGS_ALL) $(LIBS)
# bench_store: builds vaults for the evidence benchmark (and CLI tests).
$(BUILD)/bench/bench_store: bench/bench_store.c $(LIBEV)
	@mkdir -p $(dir $@)
	$(CC) $(CFLAGS_ALL) -MMD -MP -o $@ $< $(LIBEV) $(LDFLAGS_ALL) $(LIBS)
# bench_custody: the cost of one custody-log entry.
$(BUILD)/bench/bench_custody: bench/bench_custody.c $(LIBEV)
	@mkdir -p $(dir $@)
	$(CC) $(CFLAGS_ALL) -MMD -MP -o $@ $< $(LIBEV) $(LDFLAGS_ALL) $(LIBS)
# ---- end of bench ---------------------------------------------------------

install: evault
	install -d $(DESTDIR)$(PREFIX)/bin $(DESTDIR)$(PREFIX)/share/man/man1
	install -m 0755 evault $(DESTDIR)$(PREFIX)/bin/evault
	install -m 0644 docs/evault.1 $(DESTDIR)$(PREFIX)/share/man/man1/evault.1

clean:
	rm -rf build evault

-include $(shell find build -name '*.d' 2>/dev/null)
