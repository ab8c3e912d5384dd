# Rollcall. `make` builds build/rollcalld; `make run` starts a demo;
# `make test` runs every test on a sanitizer build; `make bench` measures.

CC	?= cc
PKGS	 = libpq libjwt libevent libevent_pthreads jansson libsodium libqrencode \
	   libpng libcrypto gmime-3.0 libcurl xlsxwriter pangocairo cairo-pdf
WARN	 = -Wall -Wextra -Wshadow -Wstrict-prototypes -Wmissing-prototypes \
	   -Wformat=2
CFLAGS	?= -O2 -g
CPPFLAGS += -D_GNU_SOURCE -Iserver/common
PKG_CFLAGS = $(shell pkg-config --cflags $(PKGS) 2>/dev/null)
PKG_LIBS   = $(shell pkg-config --libs $(PKGS) 2>/dev/null)
SAN	 = -O1 -g -fsanitize=address,undefined -fno-omit-frame-pointer \
	   -fno-sanitize-recover=undefined
PYTHON	 = /usr/bin/python3

# Code both programs link (server/common/, declared in common.h).
COMMON_SRCS = server/common/log.c server/common/ticket.c server/common/util.c
SERVER_SRCS = $(COMMON_SRCS) server/auth.c server/cache.c server/checkin.c \
	      server/config.c \
	      server/db.c server/event.c server/export.c server/http.c \
	      server/account.c server/console.c server/device.c server/editor.c \
	      server/ics.c server/join.c server/jwks.c server/keyring.c \
	      server/lead.c server/mail.c server/mail_build.c \
	      server/mail_worker.c server/metrics.c server/migrate.c \
	      server/noshow.c server/notify.c server/ops.c server/pwhash.c \
	      server/ratelimit.c server/registration.c server/retention.c \
	      server/router.c server/secret.c server/session.c \
	      server/template.c server/tickets.c server/token.c \
	      server/validate.c server/web.c server/worker.c server/xlsx.c \
	      server/badge.c server/pdf.c
# The community: chapters.c: chapters, staff roles
# (chapters)
SERVER_SRCS += server/chapter.c

# The community: member.c: people and members
# (members)
SERVER_SRCS += server/member.c

# The community: approval.c: proposals, decisions, sponsorships, leader applications
# (approval)
SERVER_SRCS += server/approval.c

# The community: report.c: reports
# (reports)
SERVER_SRCS += server/report.c server/svg.c

# The community: series votes and episode attendance
# (series)
SERVER_SRCS += server/series.c server/topic.c

# The community: recognition.c: contributions, points, benefits, titles
# (recognition)
SERVER_SRCS += server/recognition.c server/contribution.c server/points.c

# The community: certificate.c: volunteers and certificates
# (certificates)
SERVER_SRCS += server/certificate.c server/volunteer.c

HEADERS	    = server/server.h server/common/common.h server/pdf.h
MAIN_SRC    = server/main.c
TEST_PKGS   = cmocka zbar
UNIT_TESTS  = tests/unit/test_validate.c tests/unit/test_auth.c \
	      tests/unit/test_config.c \
	      tests/unit/test_ticket.c tests/unit/test_template.c tests/unit/test_scanner.c \
	      tests/unit/test_router.c tests/unit/test_form.c tests/unit/test_secret.c \
	      tests/unit/test_ratelimit.c tests/unit/test_ics.c \
	      tests/unit/test_xlsx.c tests/unit/test_badge.c \
	      tests/unit/test_certificate.c \
	      tests/unit/test_svg.c

SERVER_OBJS = $(SERVER_SRCS:%.c=build/obj/%.o)
ASAN_OBJS   = $(SERVER_SRCS:%.c=build/asan/%.o)
UNIT_BINS   = $(UNIT_TESTS:tests/unit/%.c=build/asan/tests/%)

# The door scanner links the code it shares with the daemon (server/common/:
# ticket verification, logging, helpers): one copy of that code in the tree.
SCAN_PKGS   = zbar libcurl libjpeg libpng jansson libjwt libsodium \
	      libqrencode libcrypto
SCAN_CFLAGS = $(shell pkg-config --cflags $(SCAN_PKGS) 2>/dev/null)
SCAN_LIBS   = $(shell pkg-config --libs $(SCAN_PKGS) 2>/dev/null)
SCAN_SRCS   = scanner/camera.c scanner/client.c scanner/decode.c \
	      scanner/image.c scanner/journal.c scanner/offline.c \
	      scanner/output.c scanner/print.c scanner/scan.c scanner/setup.c
SCAN_SHARED = $(COMMON_SRCS)
SCAN_OBJS   = $(SCAN_SRCS:%.c=build/obj/%.o) $(SCAN_SHARED:%.c=build/obj/%.o)
SCAN_ASAN_OBJS = $(SCAN_SRCS:%.c=build/asan/%.o) \
	      $(SCAN_SHARED:%.c=build/asan/%.o)

.PHONY: all deps run test unit integration bench clean check-pkgs fuzz \
	layering

all: check-pkgs build/rollcalld build/rollcall-scan

check-pkgs:
	@pkg-config --exists $(PKGS) || { echo "missing libraries: run 'make deps' (as root) or deploy/dev/deps.sh"; exit 1; }

deps:
	deploy/dev/deps.sh build

build/obj/%.o: %.c $(HEADERS)
	@mkdir -p $(@D)
	$(CC) $(CPPFLAGS) $(CFLAGS) $(WARN) $(PKG_CFLAGS) -c $< -o $@

build/asan/%.o: %.c $(HEADERS)
	@mkdir -p $(@D)
	$(CC) $(CPPFLAGS) $(SAN) $(WARN) $(PKG_CFLAGS) -c $< -o $@

build/rollcalld: $(SERVER_OBJS) build/obj/server/main.o
	$(CC) $(CFLAGS) -o $@ $^ $(PKG_LIBS)

build/asan/rollcalld: $(ASAN_OBJS) build/asan/server/main.o
	$(CC) $(SAN) -o $@ $^ $(PKG_LIBS)

.PHONY: check-scan-pkgs
check-scan-pkgs:
	@pkg-config --exists $(SCAN_PKGS) || { echo "missing libraries for rollcall-scan: run 'make deps' (as root) or deploy/dev/deps.sh"; exit 1; }

build/obj/scanner/%.o: scanner/%.c scanner/scanner.h server/common/common.h | check-scan-pkgs
	@mkdir -p $(@D)
	$(CC) $(CPPFLAGS) $(CFLAGS) $(WARN) $(PKG_CFLAGS) $(SCAN_CFLAGS) -c $< -o $@

build/asan/scanner/%.o: scanner/%.c scanner/scanner.h server/common/common.h | check-scan-pkgs
	@mkdir -p $(@D)
	$(CC) $(CPPFLAGS) $(SAN) $(WARN) $(PKG_CFLAGS) $(SCAN_CFLAGS) -c $< -o $@

build/rollcall-scan: $(SCAN_OBJS) build/obj/scanner/main.o
	$(CC) $(CFLAGS) -o $@ $^ $(SCAN_LIBS)

build/asan/rollcall-scan: $(SCAN_ASAN_OBJS) build/asan/scanner/main.o
	$(CC) $(SAN) -o $@ $^ $(SCAN_LIBS)

# The scanner's unit test links the scanner, not the daemon.
build/asan/tests/test_scanner: tests/unit/test_scanner.c tests/unit/unit.h \
	    $(SCAN_ASAN_OBJS)
	@mkdir -p $(@D)
	$(CC) $(CPPFLAGS) $(SAN) $(WARN) $(PKG_CFLAGS) $(SCAN_CFLAGS) -Iserver \
	    -Iscanner $(shell pkg-config --cflags cmocka) -o $@ $< \
	    $(SCAN_ASAN_OBJS) $(SCAN_LIBS) $(shell pkg-config --libs cmocka)

# The ticket microbenchmark of `make bench`: server/ticket.c and friends as
# the release daemon has them.
build/ticket-bench: tests/bench/ticket_bench.c $(HEADERS) $(SERVER_OBJS)
	@mkdir -p $(@D)
	$(CC) $(CPPFLAGS) $(CFLAGS) $(WARN) $(PKG_CFLAGS) -Iserver -o $@ $< \
	    $(SERVER_OBJS) $(PKG_LIBS)

# The public reads' ceiling in `make bench`: evhttp with a fixed body.
build/fixed-http: tests/bench/fixed_http.c
	@mkdir -p $(@D)
	$(CC) $(CPPFLAGS) $(CFLAGS) $(WARN) $(PKG_CFLAGS) -o $@ $< $(PKG_LIBS)

# The opening rush's client in `make bench`: keep-alive connections, epoll.
build/rush-client: tests/bench/rush.c
	@mkdir -p $(@D)
	$(CC) $(CPPFLAGS) $(CFLAGS) $(WARN) -o $@ $<

build/asan/tests/%: tests/unit/%.c tests/unit/unit.h $(ASAN_OBJS)
	@mkdir -p $(@D)
	$(CC) $(CPPFLAGS) $(SAN) $(WARN) $(PKG_CFLAGS) -Iserver \
	    $(shell pkg-config --cflags $(TEST_PKGS)) -o $@ $< $(ASAN_OBJS) \
	    $(PKG_LIBS) $(shell pkg-config --libs $(TEST_PKGS))

# The demo: a private PostgreSQL under var/ unless ROLLCALL_DB is set.
run:
	deploy/dev/deps.sh run
	$(MAKE) all
	deploy/dev/run.sh

test:
	deploy/dev/deps.sh test
	$(MAKE) layering unit integration e2e
	$(MAKE) fuzz FUZZ_SECS=10

unit: check-pkgs $(UNIT_BINS)
	@set -e; for t in $(UNIT_BINS); do echo "== $$t"; $$t; done

integration: check-pkgs build/asan/rollcalld build/asan/rollcall-scan \
	    tests/e2e/node_modules/.package-lock.json
	ROLLCALLD=$(CURDIR)/build/asan/rollcalld \
	ROLLCALL_SCAN=$(CURDIR)/build/asan/rollcall-scan $(PYTHON) -m pytest -q \
	    -p no:cacheprovider tests/integration

# The floor plan (tests/layering/check.py): no cycles among server files,
# libpq and SQL text only in db.c, one body per SQL function.
layering: build/asan/rollcalld
	$(PYTHON) tests/layering/test_check.py
	$(PYTHON) tests/layering/check.py $(ASAN_OBJS) build/asan/server/main.o
	$(PYTHON) tests/check_sql.py sql

# The attendee pages and the organizer console in headless Chromium
# (Debian's; tests/e2e/run.mjs, tests/e2e/console.mjs):
# playwright-core, axe-core, vnu-jar and ical.js from tests/e2e/package-lock.json.
.PHONY: e2e
e2e: check-pkgs build/asan/rollcalld build/asan/rollcall-scan \
	    tests/e2e/node_modules/.package-lock.json
	ROLLCALLD=$(CURDIR)/build/asan/rollcalld node tests/e2e/run.mjs
	ROLLCALLD=$(CURDIR)/build/asan/rollcalld \
	ROLLCALL_SCAN=$(CURDIR)/build/asan/rollcall-scan node tests/e2e/console.mjs

tests/e2e/node_modules/.package-lock.json: tests/e2e/package.json tests/e2e/package-lock.json
	cd tests/e2e && npm ci --ignore-scripts --no-audit --no-fund

bench:
	deploy/dev/deps.sh bench
	$(MAKE) all build/ticket-bench build/fixed-http build/rush-client
	tests/bench/bench.sh
	tests/bench/scan_bench.sh

# Fuzz the parsers that face untrusted input (clang + libFuzzer), each
# for FUZZ_SECS from its seed corpus (tests/fuzz/corpus/NAME/, copied to
# build/fuzz/NAME.corpus/ so the checked-in seeds stay as they are).
# docs/fuzzing.md lists the harnesses and what they found.
FUZZ_SECS ?= 60
FUZZ_SAN  = -g -O1 -fsanitize=address,undefined -fno-omit-frame-pointer
FUZZ_SERVER = fuzz_template fuzz_ticket fuzz_validate fuzz_route \
	      fuzz_form fuzz_cookie fuzz_xff fuzz_config fuzz_pg_ids
FUZZ_SCAN   = fuzz_journal fuzz_bundle
FUZZERS	    = $(FUZZ_SERVER:%=build/fuzz/%) $(FUZZ_SCAN:%=build/fuzz/%)
FUZZ_OBJS   = $(SERVER_SRCS:%.c=build/fuzz/obj/%.o)
FUZZ_SCAN_OBJS = $(SCAN_SRCS:%.c=build/fuzz/obj/%.o) \
	      $(COMMON_SRCS:%.c=build/fuzz/obj/%.o)

build/fuzz/obj/%.o: %.c $(HEADERS)
	@mkdir -p $(@D)
	clang $(CPPFLAGS) $(FUZZ_SAN) -fsanitize=fuzzer-no-link $(PKG_CFLAGS) \
	    -c $< -o $@

build/fuzz/obj/scanner/%.o: scanner/%.c scanner/scanner.h \
	    server/common/common.h | check-scan-pkgs
	@mkdir -p $(@D)
	clang $(CPPFLAGS) $(FUZZ_SAN) -fsanitize=fuzzer-no-link $(PKG_CFLAGS) \
	    $(SCAN_CFLAGS) -c $< -o $@

$(FUZZ_SERVER:%=build/fuzz/%): build/fuzz/%: tests/fuzz/%.c $(FUZZ_OBJS)
	clang $(CPPFLAGS) $(FUZZ_SAN) -fsanitize=fuzzer $(PKG_CFLAGS) -Iserver \
	    -o $@ $< $(FUZZ_OBJS) $(PKG_LIBS)

$(FUZZ_SCAN:%=build/fuzz/%): build/fuzz/%: tests/fuzz/%.c $(FUZZ_SCAN_OBJS)
	clang $(CPPFLAGS) $(FUZZ_SAN) -fsanitize=fuzzer $(PKG_CFLAGS) \
	    $(SCAN_CFLAGS) -Iscanner -o $@ $< $(FUZZ_SCAN_OBJS) $(SCAN_LIBS)

# A crash, a leak or a timeout fails the run and leaves the input as
# build/fuzz/NAME-crash-* (add it to the corpus once fixed).
fuzz: $(FUZZERS)
	@set -e; for f in $(FUZZERS); do n=$${f#build/fuzz/fuzz_}; \
	    mkdir -p $$f.corpus; cp tests/fuzz/corpus/$$n/* $$f.corpus/; \
	    echo "== fuzz_$$n ($(FUZZ_SECS) s)"; \
	    if ! $$f -max_total_time=$(FUZZ_SECS) -timeout=10 \
	        -artifact_prefix=$$f- $$f.corpus >$$f.log 2>&1; then \
	        tail -n 40 $$f.log; echo "fuzz: fuzz_$$n failed (log: $$f.log)"; \
	        exit 1; fi; \
	    tail -n 1 $$f.log; done

# The Debian package of the release build: build/rollcall_VERSION_ARCH.deb
# (deploy/debian/; docs/deploy.md says how to install it).
.PHONY: deb
deb: all
	deploy/debian/build-deb.sh

clean:
	rm -rf build
