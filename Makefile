# resmem: user-facing targets.  See README.md.
#
#   make module KDIR=<headers> [ARCH=arm64 CROSS_COMPILE=aarch64-linux-gnu-]
#       -> build/<kernelrelease>/resmem.ko
#   make tools [ARCH=x86_64|aarch64] -> build/<arch>/bin/resmem (static;
#                                     default: this machine's architecture)
#   make test                         the whole boot-test suite (installs what it needs)
#   make demo                         boots a guest and shows the main job end to end

PYTHON  ?= /usr/bin/python3
TOP     := $(abspath .)
BUILD   := $(TOP)/build

KDIR    ?= /lib/modules/$(shell uname -r)/build
KREL     = $(shell sed -n 's/^\#define UTS_RELEASE "\(.*\)"/\1/p' $(KDIR)/include/generated/utsrelease.h 2>/dev/null)
# The module's source tree as make module, DKMS and make lint-module build it
# (VERSION: Kbuild reads MODULE_VERSION from it).
MODSRC  := $(wildcard module/*.c module/*.h) module/Kbuild VERSION
# Headers the module includes from include/ (copied with their paths).
MODINC  := include/uapi/linux/resmem.h include/resmem/ring_producer.h

.PHONY: all module tools guest-helpers test-modules deps test test-debian-vm demo bench clean kernels

all: tools module

module:
	@test -n "$(KREL)" || { echo "make module: no kernel headers at KDIR=$(KDIR) (include/generated/utsrelease.h missing)"; exit 2; }
	@mkdir -p $(BUILD)/$(KREL)/obj
	@cp -p $(MODSRC) $(BUILD)/$(KREL)/obj/
	@cp -p --parents $(MODINC) $(BUILD)/$(KREL)/obj/
	$(MAKE) -C $(KDIR) M=$(BUILD)/$(KREL)/obj modules
	@cp -p $(BUILD)/$(KREL)/obj/resmem.ko $(BUILD)/$(KREL)/resmem.ko
	@echo "built $(BUILD)/$(KREL)/resmem.ko"

# ARCH here names the userspace architecture (x86_64 or aarch64; arm64 and
# amd64 are accepted too).  Without ARCH, the machine's own (uname -m): a
# native build with the host's gcc and libfdt-dev.  Another ARCH is a cross
# build (<arch>-linux-gnu-gcc, and that architecture's libfdt fetched under
# .cache/ by userspace/fetch-libfdt).
HOST_ARCH  ?= $(shell uname -m)
TOOLS_ARCH  = $(if $(ARCH),$(if $(filter arm64 aarch64,$(ARCH)),aarch64,$(if $(filter amd64 x86_64,$(ARCH)),x86_64,$(ARCH))),$(HOST_ARCH))
TOOLS_CC    = $(if $(filter $(HOST_ARCH),$(TOOLS_ARCH)),gcc,$(TOOLS_ARCH)-linux-gnu-gcc)

tools:
	$(MAKE) -C userspace OUT=$(BUILD)/$(TOOLS_ARCH) CC=$(TOOLS_CC) ARCH=$(TOOLS_ARCH) HOST_ARCH=$(HOST_ARCH)

# Static programs the test guests run (the command agent and test helpers).
guest-helpers:
	$(MAKE) -C tests/guest OUT=$(BUILD)/$(TOOLS_ARCH)/guest CC=$(TOOLS_CC)

# Test-only kernel modules (tests/kmod), never installed.
test-modules:
	@test -n "$(KREL)" || { echo "make test-modules: no kernel headers at KDIR=$(KDIR)"; exit 2; }
	@mkdir -p $(BUILD)/$(KREL)/testmods/linux
	@cp -p tests/kmod/Kbuild tests/kmod/*.c module/resmem_producer.h $(BUILD)/$(KREL)/testmods/
	@cp -p include/uapi/linux/resmem.h $(BUILD)/$(KREL)/testmods/linux/
	$(MAKE) -C $(KDIR) M=$(BUILD)/$(KREL)/testmods \
	    $(if $(wildcard $(BUILD)/$(KREL)/obj/Module.symvers),KBUILD_EXTRA_SYMBOLS=$(BUILD)/$(KREL)/obj/Module.symvers) modules

deps:
	@tests/install-deps.sh $(if $(filter local,$(TARGETS)),--local)

kernels: deps
	$(PYTHON) -m tests.harness.kernels fetch

# Arguments for pytest, e.g. make test PYTEST_ARGS='-k smoke' TARGETS=qemu-x86_64-6.1
# A tree that fails everywhere stops after MAXFAIL failures (0: never).
PYTEST_ARGS ?=
TARGETS ?=
MAXFAIL ?= 30
test: deps
	$(PYTHON) -m pytest tests $(if $(TARGETS),--targets=$(TARGETS)) \
	    $(if $(filter-out 0,$(MAXFAIL)),--maxfail=$(MAXFAIL)) --durations=20 \
	    $(if $(filter local,$(TARGETS)),--junitxml=$(BUILD)/local/report.xml) $(PYTEST_ARGS)

# Only the full-Debian-VM proofs (both architectures; make test runs them too).
test-debian-vm: deps
	$(PYTHON) -m pytest tests -m debian_vm $(PYTEST_ARGS)

demo: deps
	$(PYTHON) -m tests.demo

# make bench [TARGET=local|qemu-x86_64-6.12,...] [BENCH_FULL=8G] [BENCH_DAX=8G] (see docs/benchmarks.md)
TARGET ?=
bench: deps
	TARGET=$(TARGET) $(PYTHON) -m tests.bench

clean:
	rm -rf $(BUILD)

# ---------------------------------------------------------------- install
# make install [DESTDIR=/stage] [PREFIX=/usr/local] [KDIR=<headers>]
#   = install-tools (CLI, libresmem, headers, resmem.pc, man pages, docs, udev rule,
#     modprobe.d file) + install-module (kbuild modules_install into
#     /lib/modules/<krel>/extra, then depmod unless DESTDIR is set).
# make uninstall removes exactly those files again.
# make dkms-install copies the module source to $(DKMS_SRCTREE)/resmem-<version>
# and runs dkms add + install (DKMS_ARGS='--dkmstree ... -k KREL ...' for a
# throwaway tree).
# The one version number: CLI, library, module, pkg-config file, packages.
VERSION     := $(shell cat $(TOP)/VERSION)
include $(TOP)/userspace/lib/abi.mk
LIBSO_NAME  := libresmem.so.$(LIBRESMEM_ABI)
DESTDIR     ?=
PREFIX      ?= /usr/local
BINDIR      ?= $(PREFIX)/bin
LIBDIR      ?= $(PREFIX)/lib
INCLUDEDIR  ?= $(PREFIX)/include
MANDIR      ?= $(PREFIX)/share/man
DOCDIR      ?= $(PREFIX)/share/doc/resmem
# The documents --help and resmem(1) point at.
DOCS        := docs/cli.md docs/reserving-memory.md docs/ring-format.md
PKGCONFIGDIR ?= $(LIBDIR)/pkgconfig
UDEVRULESDIR ?= /lib/udev/rules.d
MODPROBEDIR ?= /etc/modprobe.d
DKMS_SRCTREE ?= /usr/src
DKMS_ARGS   ?=
BASHCOMPDIR ?= $(PREFIX)/share/bash-completion/completions
INSTALL     ?= install
# How install-group creates the udev rule's group (as the .deb's postinst).
ADDGROUP    ?= $(if $(shell command -v addgroup),addgroup --system,groupadd --system)
GETENT      ?= getent

.PHONY: install install-tools install-module uninstall uninstall-tools uninstall-module \
	dkms-source dkms-install dkms-uninstall deb lint lint-module lint-userspace install-group

install: install-tools install-module

install-tools:
	$(MAKE) tools ARCH=$(HOST_ARCH)
	$(INSTALL) -D -m 0755 $(BUILD)/$(HOST_ARCH)/bin/resmem $(DESTDIR)$(BINDIR)/resmem
	$(INSTALL) -D -m 0644 $(BUILD)/$(HOST_ARCH)/lib/libresmem.a $(DESTDIR)$(LIBDIR)/libresmem.a
	$(INSTALL) -D -m 0755 $(BUILD)/$(HOST_ARCH)/lib/$(LIBSO_NAME) $(DESTDIR)$(LIBDIR)/$(LIBSO_NAME)
	ln -sf $(LIBSO_NAME) $(DESTDIR)$(LIBDIR)/libresmem.so
	$(INSTALL) -D -m 0644 userspace/include/libresmem.h $(DESTDIR)$(INCLUDEDIR)/libresmem.h
	$(INSTALL) -D -m 0644 include/uapi/linux/resmem.h $(DESTDIR)$(INCLUDEDIR)/linux/resmem.h
	@mkdir -p $(DESTDIR)$(PKGCONFIGDIR)
	sed -e 's|@PREFIX@|$(PREFIX)|' -e 's|@LIBDIR@|$(LIBDIR)|' -e 's|@INCLUDEDIR@|$(INCLUDEDIR)|' \
	    -e 's|@VERSION@|$(VERSION)|' resmem.pc.in > $(DESTDIR)$(PKGCONFIGDIR)/resmem.pc
	$(INSTALL) -D -m 0644 man/resmem.1 $(DESTDIR)$(MANDIR)/man1/resmem.1
	$(INSTALL) -D -m 0644 man/resmem.4 $(DESTDIR)$(MANDIR)/man4/resmem.4
	$(INSTALL) -d $(DESTDIR)$(DOCDIR)
	$(INSTALL) -m 0644 $(DOCS) $(DESTDIR)$(DOCDIR)/
	$(INSTALL) -D -m 0644 udev/60-resmem.rules $(DESTDIR)$(UDEVRULESDIR)/60-resmem.rules
	$(INSTALL) -D -m 0644 modprobe.d/resmem.conf $(DESTDIR)$(MODPROBEDIR)/resmem.conf
	$(INSTALL) -D -m 0644 completion/resmem.bash $(DESTDIR)$(BASHCOMPDIR)/resmem
	@$(MAKE) -s --no-print-directory install-group

# The group the udev rule gives the device nodes (60-resmem.rules): created
# here when installing into this system as root, else the command to run is
# printed (a DESTDIR staging tree or a package creates it on the target).
install-group:
	@if [ -n "$(DESTDIR)" ]; then \
	    echo "note: DESTDIR is set: on the target system, create the device group: $(ADDGROUP) resmem"; \
	elif $(GETENT) group resmem >/dev/null; then :; \
	elif [ "$$(id -u)" != 0 ]; then \
	    echo "note: not root: create the device group with: sudo $(ADDGROUP) resmem"; \
	else echo "$(ADDGROUP) resmem"; $(ADDGROUP) resmem; fi

install-module: module
	$(MAKE) -C $(KDIR) M=$(BUILD)/$(KREL)/obj INSTALL_MOD_PATH=$(DESTDIR) INSTALL_MOD_DIR=extra \
	    CONFIG_MODULE_SIG_ALL= DEPMOD=true modules_install
	$(if $(DESTDIR),,depmod -a $(KREL))

uninstall: uninstall-tools uninstall-module

uninstall-tools:
	rm -f $(DESTDIR)$(BINDIR)/resmem $(DESTDIR)$(LIBDIR)/libresmem.a \
	    $(DESTDIR)$(LIBDIR)/$(LIBSO_NAME) $(DESTDIR)$(LIBDIR)/libresmem.so \
	    $(DESTDIR)$(INCLUDEDIR)/libresmem.h $(DESTDIR)$(INCLUDEDIR)/linux/resmem.h \
	    $(DESTDIR)$(PKGCONFIGDIR)/resmem.pc $(DESTDIR)$(MANDIR)/man1/resmem.1 \
	    $(DESTDIR)$(MANDIR)/man4/resmem.4 $(DESTDIR)$(UDEVRULESDIR)/60-resmem.rules \
	    $(DESTDIR)$(MODPROBEDIR)/resmem.conf $(DESTDIR)$(BASHCOMPDIR)/resmem \
	    $(addprefix $(DESTDIR)$(DOCDIR)/,$(notdir $(DOCS)))

uninstall-module:
	@test -n "$(KREL)" || { echo "make uninstall-module: no kernel headers at KDIR=$(KDIR)"; exit 2; }
	rm -f $(DESTDIR)/lib/modules/$(KREL)/extra/resmem.ko $(DESTDIR)/lib/modules/$(KREL)/extra/resmem.ko.*
	$(if $(DESTDIR),,depmod -a $(KREL))

# The tree DKMS builds: Kbuild, sources, VERSION, the UAPI header, dkms.conf.
DKMS_DIR = $(DESTDIR)$(DKMS_SRCTREE)/resmem-$(VERSION)
dkms-source:
	rm -rf $(DKMS_DIR)
	@mkdir -p $(DKMS_DIR)
	cp -p $(MODSRC) $(DKMS_DIR)/
	cp -p --parents $(MODINC) $(DKMS_DIR)/
	sed 's|@VERSION@|$(VERSION)|' dkms.conf > $(DKMS_DIR)/dkms.conf

dkms-install: dkms-source
	@if dkms status -m resmem -v $(VERSION) $(DKMS_ARGS) | grep -q .; then \
	    echo "dkms: resmem/$(VERSION) already added"; \
	else echo "dkms add -m resmem -v $(VERSION) $(DKMS_ARGS)"; dkms add -m resmem -v $(VERSION) $(DKMS_ARGS); fi
	dkms install -m resmem -v $(VERSION) $(DKMS_ARGS)

dkms-uninstall:
	-dkms remove -m resmem -v $(VERSION) --all $(DKMS_ARGS)
	rm -rf $(DKMS_DIR)

# ------------------------------------------------------------------ deb
# make deb -> build/deb/resmem-dkms_<v>_all.deb, build/deb/resmem-tools_<v>_<arch>.deb
# (<v>: VERSION, written into the copy's debian/changelog, a template)
# Built with dpkg-buildpackage from a copy of the tracked files (the work
# tree's versions), so the tree itself gets no debian/ build debris.
DEBDIR := $(BUILD)/deb
deb:
	rm -rf $(DEBDIR) && mkdir -p $(DEBDIR)/resmem-$(VERSION)
	git ls-files -z --cached -- . ':!:.ci' ':!:tests' | \
	    (cd $(TOP) && xargs -0 cp --parents -p -t $(DEBDIR)/resmem-$(VERSION) 2>/dev/null; true)
	test -f $(DEBDIR)/resmem-$(VERSION)/debian/rules
	sed -i '1s|@VERSION@|$(VERSION)|' $(DEBDIR)/resmem-$(VERSION)/debian/changelog
	cd $(DEBDIR)/resmem-$(VERSION) && dpkg-buildpackage -b -us -uc
	@ls $(DEBDIR)/*.deb

# ----------------------------------------------------------------- lint
# make lint: the module with W=1 and sparse (C=2) against every kernel of the
# matrix (any warning fails; kernels built by a newer gcc than the host's are
# checked inside the trixie build root, tests/harness/buildroot.py), cppcheck and clang-tidy on the tracked userspace
# sources, clang-format --dry-run --Werror (.clang-format, kernel style) on
# the files listed in CLANG_FORMAT_FILES.
LINT_KERNELS = $(shell $(PYTHON) -c 'from tests.harness import matrix; print(" ".join(k.name for k in matrix.MATRIX))')
US_SRCS = $(shell git ls-files 'userspace/lib/*.c' 'userspace/cli/*.c')
US_INC  = -Iuserspace/include -Iinclude/uapi -Iinclude -Iuserspace/lib -Iuserspace/cli
US_DEFS = -DRESMEM_VERSION='"$(VERSION)"'
# Checks left out, and why:
#  insecureAPI.DeprecatedOrUnsafeBufferHandling: wants C11 Annex K (memcpy_s), which glibc lacks;
#  valist.Uninitialized: clang 14 false positive on va_start/vprintf pairs;
#  core.CallAndMessage, core.UndefinedBinaryOperatorResult, core.NonNullParamChecker: the
#    analyzer does not know errno is non-zero after a failed call, so every
#    `return -errno` error path is reported as "success without output";
#  bugprone-easily-swappable-parameters, -narrowing-conversions, -reserved-identifier,
#    -suspicious-string-compare (`!strcmp()` is house style), -implicit-widening-*,
#    -assignment-in-if-condition, -misplaced-widening-cast (printf casts of uint64_t): style.
TIDY_CHECKS = -*,clang-analyzer-*,bugprone-*,-clang-analyzer-security.insecureAPI.DeprecatedOrUnsafeBufferHandling,-clang-analyzer-valist.Uninitialized,-clang-analyzer-core.CallAndMessage,-clang-analyzer-core.UndefinedBinaryOperatorResult,-clang-analyzer-core.NonNullParamChecker,-bugprone-easily-swappable-parameters,-bugprone-narrowing-conversions,-bugprone-reserved-identifier,-bugprone-suspicious-string-compare,-bugprone-implicit-widening-of-multiplication-result,-bugprone-assignment-in-if-condition,-bugprone-misplaced-widening-cast
# cppcheck: nullPointerArithmeticRedundantCheck misreads "grow when full or NULL, then read".
CPPCHECK_ARGS = -q --enable=warning,portability,performance --error-exitcode=1 --std=c11 \
	--suppress=nullPointerArithmeticRedundantCheck -D_GNU_SOURCE
# Files in kernel style: all of lib/, cli/ and include/ but ring_crc_table.h
# (generated CRC tables, kept as generated).
CLANG_FORMAT_FILES ?= $(filter-out userspace/lib/ring_crc_table.h, \
	$(shell git ls-files 'userspace/lib/*.[ch]' 'userspace/cli/*.[ch]' 'userspace/include/*.h'))

lint: lint-module lint-userspace
	@echo "lint: clean"

lint-module: kernels
	@set -e; for t in $(LINT_KERNELS); do \
	    kdir=$$($(PYTHON) -m tests.harness.kernels path $$t headers); \
	    case $$t in *aarch64*) x="ARCH=arm64 CROSS_COMPILE=aarch64-linux-gnu-";; *) x="";; esac; \
	    krel=$$(sed -n 's/^#define UTS_RELEASE "\(.*\)"/\1/p' $$kdir/include/generated/utsrelease.h); \
	    d=$(BUILD)/lint/$$krel; rm -rf $$d; mkdir -p $$d; \
	    cp -p $(MODSRC) $$d/; cp -p --parents $(MODINC) $$d/; \
	    echo "lint: module W=1 C=2 for $$krel"; \
	    $(PYTHON) -m tests.harness.kernels run $$t -- make -s -j$$(nproc) -C $$kdir M=$$d W=1 C=2 $$x modules \
	        > $$d/log 2>&1 || { cat $$d/log; exit 1; }; \
	    if grep -E 'warning:|error:' $$d/log; then echo "lint: $$krel: warnings above"; exit 1; fi; \
	done

# cppcheck and clang-tidy on all cores: each file is checked on its own.
LINT_JOBS ?= $(shell nproc)
lint-userspace:
	cppcheck -j$(LINT_JOBS) $(CPPCHECK_ARGS) $(US_INC) $(US_DEFS) $(US_SRCS)
	printf '%s\n' $(US_SRCS) | xargs -P$(LINT_JOBS) -n8 sh -c \
	    'clang-tidy --quiet --warnings-as-errors="*" --checks="$(TIDY_CHECKS)" "$$@" -- \
	    -std=c11 -D_GNU_SOURCE -D_FILE_OFFSET_BITS=64 $(US_INC) -DRESMEM_VERSION=\"$(VERSION)\"' clang-tidy
	clang-format --dry-run --Werror $(CLANG_FORMAT_FILES)

# ------------------------------------------------------------ sanitizers
# make asan: the userspace unit tests (which also run the CLI) built with
# AddressSanitizer + UndefinedBehaviorSanitizer (any report aborts), into
# their own OUT so the static release build is untouched.
# make valgrind: the CLI's main paths under memcheck on the fixture inputs,
# from a dynamically linked -O1 -g build (memcheck cannot see the heap of a
# static binary: malloc is not interposed there).
ASAN_OUT ?= $(BUILD)/asan
VG_OUT   ?= $(BUILD)/valgrind
SAN_FLAGS = -O1 -g -fsanitize=address,undefined -fno-omit-frame-pointer -fno-sanitize-recover=all
FIX       = userspace/tests/fixtures
CAP       = $(FIX)/captured
VALGRIND  = valgrind -q --error-exitcode=99 --leak-check=full --errors-for-leak-kinds=definite,indirect,possible
.PHONY: asan valgrind soak

asan:
	ASAN_OPTIONS=detect_leaks=1:abort_on_error=1 UBSAN_OPTIONS=print_stacktrace=1:halt_on_error=1 \
	    $(MAKE) -C userspace check OUT=$(ASAN_OUT) STATIC= CFLAGS='$(SAN_FLAGS)' LDFLAGS='-fsanitize=address,undefined'

# Each command's exit status is its documented one (0 ok, 1 problem found);
# 99 is memcheck finding an error.
valgrind:
	$(MAKE) -C userspace OUT=$(VG_OUT) STATIC= CFLAGS='-O1 -g' $(VG_OUT)/bin/resmem
	@mkdir -p $(VG_OUT)/tmp
	dtc -q -I dts -O dtb -o $(VG_OUT)/tmp/rm.dtb tests/dt/valgrind.dts
	@set -e; R=$(VG_OUT)/bin/resmem; run() { want=$$1; shift; echo "valgrind: resmem $$*"; \
	    set +e; $(VALGRIND) $$R "$$@" > $(VG_OUT)/tmp/out 2>&1; st=$$?; set -e; \
	    if [ $$st -ne $$want ]; then cat $(VG_OUT)/tmp/out; echo "valgrind: exit $$st, expected $$want"; exit 1; fi; }; \
	run 0 check --cmdline $(FIX)/cmdline/reserve-8g-at-4g --iomem $(FIX)/iomem/reserved-8g-at-4g \
	    --firmware-memmap $(FIX)/firmware-memmap --sysfs $(FIX)/sys/loaded-8g-at-4g; \
	run 1 check --cmdline $(CAP)/eaten-dollar/cmdline --iomem $(CAP)/eaten-dollar/unloaded/iomem \
	    --firmware-memmap $(CAP)/eaten-dollar/firmware-memmap --sysfs $(CAP)/eaten-dollar/unloaded/sys; \
	run 1 check --cmdline $(CAP)/pci-hole/cmdline --iomem $(CAP)/pci-hole/loaded/iomem \
	    --firmware-memmap $(CAP)/pci-hole/firmware-memmap --sysfs $(CAP)/pci-hole/loaded/sys; \
	run 1 check --cmdline $(CAP)/kernel-inside/cmdline --iomem $(CAP)/kernel-inside/loaded/iomem \
	    --firmware-memmap $(CAP)/kernel-inside/firmware-memmap --sysfs $(CAP)/kernel-inside/loaded/sys; \
	run 0 check --cmdline $(FIX)/cmdline/two-1g --iomem $(FIX)/iomem/reserved-two-1g \
	    --firmware-memmap $(FIX)/firmware-memmap --sysfs $(FIX)/sys/loaded-two-1g; \
	run 1 check --json --fdt $(VG_OUT)/tmp/rm.dtb --cmdline $(FIX)/cmdline/reserve-8g-at-4g \
	    --iomem $(FIX)/iomem/reserved-8g-at-4g --firmware-memmap $(FIX)/firmware-memmap \
	    --sysfs $(FIX)/sys/loaded-8g-at-4g; \
	run 0 plan --size 8G --from $(FIX)/plan/qemu-pc-13G.memmap; \
	run 0 plan --size 1G --count 2 --json --from $(FIX)/plan/qemu-pc-13G.e820 --iomem $(FIX)/plan/qemu-pc-13G.iomem; \
	run 1 plan --size 64G --from $(FIX)/plan/qemu-pc-13G.memmap; \
	run 1 dt list $(VG_OUT)/tmp/rm.dtb; \
	run 1 dt list --json $(VG_OUT)/tmp/rm.dtb; \
	run 0 dt add $(VG_OUT)/tmp/rm.dtb $(VG_OUT)/tmp/rm2.dtb --name cap --size 64M --addr 0x90000000 --no-map; \
	run 0 list --sysfs $(FIX)/sys/loaded-8g-at-4g; \
	run 0 list --json --sysfs $(FIX)/sys/loaded-two-1g; \
	run 0 list --sysfs $(FIX)/sys/loaded-no-regions; \
	run 0 info region0 --sysfs $(FIX)/sys/loaded-8g-at-4g
	@echo "valgrind: clean"

# make soak: the long runs (fuzzer, concurrency, ring capture + drain) on x86_64, e.g.
#   make soak SOAK_SECONDS=3600 TARGETS=qemu-x86_64-6.12
# The ring soak captures for SOAK_SECONDS, lossless under a slow consumer and
# lossy under a stalled one, and prints records, wraps, rate, waits and losses
# (tests/soak_ring.py, docs/testing.md); SOAK_K='ring_soak' runs only it.
# Any kernel warning in the guest fails the run (panic_on_warn, the harness's log check).
SOAK_SECONDS ?= 600
SOAK_TESTS   ?= tests/test_bad_input.py tests/soak_ring.py
SOAK_K       ?= fuzz or concurrent or ring_soak
soak: deps
	RESMEM_FUZZ_SECONDS=$(SOAK_SECONDS) RESMEM_STRESS_SECONDS=$$(( $(SOAK_SECONDS) / 4 )) \
	RESMEM_RING_SOAK_SECONDS=$(SOAK_SECONDS) \
	    $(PYTHON) -m pytest $(SOAK_TESTS) -k '$(SOAK_K)' -s \
	    --targets=$(if $(TARGETS),$(TARGETS),qemu-x86_64-6.1,qemu-x86_64-6.12) $(PYTEST_ARGS)
