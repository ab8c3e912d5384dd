# Rollcall. `make` builds build/rollcalld; `make run` starts a demo;
# `make test` runs every test on a sanitizer build; `make bench` measures.

CC	?= cc
PKGS	 = libpq libjwt libevent jansson libsodium libqrencode libpng libcrypto
WARN	 = -Wall -Wextra -Wshadow -Wstrict-prototypes -Wmissing-prototypes \
	   -Wformat=2
CFLAGS	?= -O2 -g
CPPFLAGS += -D_GNU_SOURCE
PKG_CFLAGS = $(shell pkg-config --cflags $(PKGS) 2>/dev/null)
PKG_LIBS   = $(shell pkg-config --libs $(PKGS) 2>/dev/null)
SAN	 = -O1 -g -fsanitize=address,undefined -fno-omit-frame-pointer \
	   -fno-sanitize-recover=undefined
PYTHON	 = /usr/bin/python3

SERVER_SRCS = server/auth.c server/checkin.c server/db.c server/event.c server/export.c server/http.c \
	      server/lead.c server/log.c server/migrate.c server/ops.c server/registration.c \
	      server/ticket.c server/validate.c
MAIN_SRC    = server/main.c
TEST_PKGS   = cmocka zbar
UNIT_TESTS  = tests/unit/test_validate.c tests/unit/test_auth.c \
	      tests/unit/test_ticket.c

SERVER_OBJS = $(SERVER_SRCS:%.c=build/obj/%.o)
ASAN_OBJS   = $(SERVER_SRCS:%.c=build/asan/%.o)
UNIT_BINS   = $(UNIT_TESTS:tests/unit/%.c=build/asan/tests/%)

.PHONY: all deps run test unit integration bench clean check-pkgs

all: check-pkgs build/rollcalld

check-pkgs:
	@pkg-config --exists $(PKGS) || { echo "missing libraries: run 'make deps' (as root) or deploy/dev/deps.sh"; exit 1; }

deps:
	deploy/dev/deps.sh build

build/obj/%.o: %.c server/server.h
	@mkdir -p $(@D)
	$(CC) $(CPPFLAGS) $(CFLAGS) $(WARN) $(PKG_CFLAGS) -c $< -o $@

build/asan/%.o: %.c server/server.h
	@mkdir -p $(@D)
	$(CC) $(CPPFLAGS) $(SAN) $(WARN) $(PKG_CFLAGS) -c $< -o $@

build/rollcalld: $(SERVER_OBJS) build/obj/server/main.o
	$(CC) $(CFLAGS) -o $@ $^ $(PKG_LIBS)

build/asan/rollcalld: $(ASAN_OBJS) build/asan/server/main.o
	$(CC) $(SAN) -o $@ $^ $(PKG_LIBS)

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
	$(MAKE) unit integration

unit: check-pkgs $(UNIT_BINS)
	@set -e; for t in $(UNIT_BINS); do echo "== $$t"; $$t; done

integration: check-pkgs build/asan/rollcalld
	ROLLCALLD=$(CURDIR)/build/asan/rollcalld $(PYTHON) -m pytest -q \
	    -p no:cacheprovider tests/integration

bench:
	deploy/dev/deps.sh bench
	$(MAKE) all
	tests/bench/bench.sh

clean:
	rm -rf build
