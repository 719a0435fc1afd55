#!/bin/sh
# Installs the Debian packages that building, testing and the demo need.
# Idempotent: does nothing when everything is already there.
set -e
# --local: only what `make test TARGETS=local` needs on the machine under test
# (build the module, tools and helpers for the running kernel, run pytest).
if [ "$1" = --local ]; then
	PKGS="make gcc libc6-dev python3 python3-pytest device-tree-compiler libfdt-dev kmod
linux-headers-$(uname -r)"
else
PKGS="make gcc libc6-dev python3 python3-pytest qemu-system-x86 qemu-system-arm
qemu-system-data ipxe-qemu ovmf qemu-efi-aarch64 gcc-aarch64-linux-gnu libc6-dev-arm64-cross binutils-aarch64-linux-gnu
device-tree-compiler libfdt-dev valgrind busybox-static xz-utils zstd bc kmod cpio apt dpkg dwarves grub-common grub-pc-bin xorriso mtools
u-boot-qemu u-boot-tools systemd-boot-efi
git file pkg-config dkms dh-dkms debhelper dpkg-dev fakeroot lintian mandoc man-db sparse cppcheck clang-tidy clang-format udev libc-bin
gnuplot-nox ndctl daxctl mmdebstrap qemu-user-static arch-test e2fsprogs"
fi
missing=""
for p in $PKGS; do
	dpkg-query -W -f='${Status}' "$p" 2>/dev/null | grep -q "install ok installed" || missing="$missing $p"
done
[ -z "$missing" ] && exit 0
echo "install-deps: installing:$missing"
SUDO=""
[ "$(id -u)" = 0 ] || SUDO=sudo
$SUDO apt-get update -q
DEBIAN_FRONTEND=noninteractive $SUDO apt-get install -y -q --no-install-recommends $missing
