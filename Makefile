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
KREL     = $(shell cat $(KDIR)/include/config/kernel.release 2>/dev/null)
MODSRC  := $(wildcard module/*.c module/*.h) module/Kbuild

.PHONY: all module tools deps test demo clean kernels

all: tools module

module:
	@test -n "$(KREL)" || { echo "make module: no kernel headers at KDIR=$(KDIR) (include/config/kernel.release missing)"; exit 2; }
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
