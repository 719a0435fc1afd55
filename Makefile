# resmem: user-facing targets.  See README.md.
#
#   make module KDIR=<headers> [ARCH=arm64 CROSS_COMPILE=aarch64-linux-gnu-]
#       -> build/<kernelrelease>/resmem.ko
#   make tools ARCH=x86_64|aarch64   -> build/<arch>/bin/resmem (static)
#   make test                         the whole boot-test suite (installs what it needs)
#   make demo                         boots a guest and shows the main job end to end

PYTHON  ?= /usr/bin/python3
TOP     := $(abspath .)
BUILD   := $(TOP)/build

KDIR    ?= /lib/modules/$(shell uname -r)/build
KREL     = $(shell sed -n 's/^\#define UTS_RELEASE "\(.*\)"/\1/p' $(KDIR)/include/generated/utsrelease.h 2>/dev/null)
MODSRC  := $(wildcard module/*.c module/*.h) module/Kbuild

.PHONY: all module tools guest-helpers test-modules deps test demo clean kernels

all: tools module

module:
	@test -n "$(KREL)" || { echo "make module: no kernel headers at KDIR=$(KDIR) (include/generated/utsrelease.h missing)"; exit 2; }
	@mkdir -p $(BUILD)/$(KREL)/obj
	@cp -p $(MODSRC) $(BUILD)/$(KREL)/obj/
	@mkdir -p $(BUILD)/$(KREL)/obj/include/uapi/linux
	@cp -p include/uapi/linux/resmem.h $(BUILD)/$(KREL)/obj/include/uapi/linux/
	$(MAKE) -C $(KDIR) M=$(BUILD)/$(KREL)/obj modules
	@cp -p $(BUILD)/$(KREL)/obj/resmem.ko $(BUILD)/$(KREL)/resmem.ko
	@echo "built $(BUILD)/$(KREL)/resmem.ko"

# ARCH here names the userspace architecture (x86_64 or aarch64).
TOOLS_ARCH = $(if $(filter arm64 aarch64,$(ARCH)),aarch64,x86_64)
TOOLS_CC   = $(if $(filter aarch64,$(TOOLS_ARCH)),aarch64-linux-gnu-gcc,gcc)

tools:
	$(MAKE) -C userspace OUT=$(BUILD)/$(TOOLS_ARCH) CC=$(TOOLS_CC) ARCH=$(TOOLS_ARCH)

# Static programs the test guests run (the command agent and test helpers).
guest-helpers:
	$(MAKE) -C tests/guest OUT=$(BUILD)/$(TOOLS_ARCH)/guest CC=$(TOOLS_CC)

# Test-only kernel modules (tests/kmod), never installed.
test-modules:
	@test -n "$(KREL)" || { echo "make test-modules: no kernel headers at KDIR=$(KDIR)"; exit 2; }
	@mkdir -p $(BUILD)/$(KREL)/testmods
	@cp -p tests/kmod/Kbuild tests/kmod/*.c $(BUILD)/$(KREL)/testmods/
	$(MAKE) -C $(KDIR) M=$(BUILD)/$(KREL)/testmods modules

deps:
	@tests/install-deps.sh

kernels: deps
	$(PYTHON) -m tests.harness.kernels fetch

# Arguments for pytest, e.g. make test PYTEST_ARGS='-k smoke' TARGETS=qemu-x86_64-6.1
PYTEST_ARGS ?=
TARGETS ?=
test: deps
	$(PYTHON) -m pytest tests $(if $(TARGETS),--targets=$(TARGETS)) $(PYTEST_ARGS)

demo: deps
	$(PYTHON) -m tests.demo

clean:
	rm -rf $(BUILD)
