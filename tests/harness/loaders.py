"""Guests booted by a real boot loader from a disk, the loader reading the
kernel command line from its own configuration: systemd-boot under OVMF
(x86_64) and U-Boot (arm64 `virt`), both from Debian's packages
(systemd-boot-efi, u-boot-qemu; tests/install-deps.sh installs them).

The command line must carry the harness's own parameters (HARNESS_CMDLINE
of the architecture) for the agent to start; everything else is what the
loader made of the line it was given."""
import os
import shutil
import subprocess

from . import build, fatdisk, qemu

SYSTEMD_BOOT = "/usr/lib/systemd/boot/efi/systemd-bootx64.efi"
UBOOT_ARM64 = "/usr/lib/u-boot/qemu_arm64/u-boot.bin"

HARNESS_CMDLINE = {
    "x86_64": "console=ttyS0 resmem_test.agent=/dev/ttyS1 panic=-1 panic_on_warn=1 oops=panic "
              "loglevel=7",
    "aarch64": "console=ttyAMA0 resmem_test.agent=/dev/ttyS0 panic=-1 panic_on_warn=1 oops=panic "
               "loglevel=7",
}

# where boot.scr loads the initramfs: above any kernel image's end (U-Boot's
# own ramdisk_addr_r, 64 MiB after the kernel, is too close to 7.x's 50 MiB
# Image plus its BSS), below U-Boot, which relocates itself to the top of RAM
UBOOT_RAMDISK_ADDR = 0x48000000


def have_systemd_boot():
    """None, or why a systemd-boot guest cannot run here."""
    for f in (SYSTEMD_BOOT, qemu.UEFI_FIRMWARE["x86_64"]):
        if not os.path.isfile(f):
            return f"{f} is missing (tests/install-deps.sh installs systemd-boot-efi ovmf)"
    return _have_mtools()


def have_uboot():
    """None, or why a U-Boot guest cannot run here."""
    if not os.path.isfile(UBOOT_ARM64):
        return f"{UBOOT_ARM64} is missing (tests/install-deps.sh installs u-boot-qemu)"
    if not shutil.which("mkimage"):
        return "mkimage not found (tests/install-deps.sh installs u-boot-tools)"
    return _have_mtools()


def _have_mtools():
    for tool in ("mformat", "mcopy", "mmd"):
        if not shutil.which(tool):
            return f"{tool} not found (tests/install-deps.sh installs mtools)"
    return None


def systemd_boot_disk(k, options_line, out):
    """An EFI system partition as `bootctl install` lays it out: systemd-boot
    as the removable-media loader, loader.conf with no menu delay, and one
    Boot Loader Specification entry for target k's kernel and test initramfs
    whose `options` line is `options_line` verbatim."""
    if k.arch != "x86_64":
        raise ValueError("systemd-boot here is the x86_64 build: x86_64 targets only")
    entry = ("title resmem test\n"
             "linux /vmlinuz\n"
             "initrd /initrd.gz\n"
             f"{options_line}\n")
    return fatdisk.make(out, {
        "/EFI/BOOT/BOOTX64.EFI": SYSTEMD_BOOT,
        "/EFI/systemd/systemd-bootx64.efi": SYSTEMD_BOOT,
        "/loader/loader.conf": b"timeout 0\ndefault resmem.conf\n",
        "/loader/entries/resmem.conf": entry.encode(),
        "/vmlinuz": build.kernels.image(k),
        "/initrd.gz": build.initrd(k),
    })


def uboot_disk(k, setenv_line, out, before=()):
    """A disk U-Boot's distro boot runs /boot.scr from (as Debian's
    flash-kernel writes one): the lines `before`, `setenv_line` verbatim,
    then load the kernel and initramfs from the same partition and `booti`
    them with the device tree U-Boot was given.  The script is hush script,
    parsed by U-Boot's own shell, as a line typed at its prompt would be."""
    if k.arch != "aarch64":
        raise ValueError("this U-Boot is qemu_arm64: aarch64 targets only")
    part = "${devtype} ${devnum}:${distro_bootpart}"
    initrd = f"{UBOOT_RAMDISK_ADDR:#x}"
    script = ("".join(f"{line}\n" for line in before) +
              f"{setenv_line}\n"
              f"load {part} ${{kernel_addr_r}} /Image\n"
              f"load {part} {initrd} /initrd.gz\n"
              f"booti ${{kernel_addr_r}} {initrd}:${{filesize}} ${{fdtcontroladdr}}\n")
    cmd, scr = out + ".cmd", out + ".scr"
    with open(cmd, "w") as f:
        f.write(script)
    r = subprocess.run(["mkimage", "-A", "arm64", "-O", "linux", "-T", "script", "-C", "none",
                        "-n", "resmem test", "-d", cmd, scr],
                       stdout=subprocess.PIPE, stderr=subprocess.STDOUT, text=True, timeout=60)
    if r.returncode:
        raise RuntimeError(f"mkimage failed:\n{r.stdout}")
    return fatdisk.make(out, {"/boot.scr": scr, "/Image": build.kernels.image(k),
                              "/initrd.gz": build.initrd(k)})


class DiskGuest(qemu.Guest):
    """A harness guest whose firmware boots a loader from `disk` (a raw
    image on virtio-blk) instead of QEMU's -kernel."""

    def __init__(self, kernel, disk, **kw):
        super().__init__(kernel, **kw)
        self.disk = disk

    def _common_argv(self):
        d = self.dir
        argv = ["-accel", "tcg", "-m", self.mem, "-smp", str(self.smp),
                "-display", "none", "-monitor", "none", "-nodefaults",
                "-drive", f"file={self.disk},format=raw,if=virtio,readonly=on",
                "-chardev", f"file,id=con,path={d}/console.log",
                "-chardev", f"socket,id=agent,path={d}/agent.sock,server=on,wait=off",
                "-qmp", f"unix:{d}/qmp.sock,server=on,wait=off"]
        if not self.reboot:
            argv.append("-no-reboot")
        return argv


class SystemdBootGuest(DiskGuest):
    """OVMF boots systemd-boot from the disk's EFI system partition."""

    def qemu_argv(self):
        if self.k.arch != "x86_64":
            raise ValueError("systemd-boot guests are x86_64")
        return ["qemu-system-x86_64", "-machine", "pc", "-cpu", "max",
                "-bios", qemu.UEFI_FIRMWARE["x86_64"], *self._common_argv(),
                "-serial", "chardev:con", "-serial", "chardev:agent"] + self.extra_qemu


class UbootGuest(DiskGuest):
    """Debian's U-Boot for QEMU's arm64 `virt` as the firmware (-bios): its
    distro boot finds /boot.scr on the disk.  The device tree is QEMU's."""

    def qemu_argv(self):
        if self.k.arch != "aarch64":
            raise ValueError("U-Boot guests are aarch64")
        return ["qemu-system-aarch64", "-machine", "virt", "-cpu", "cortex-a57",
                "-bios", UBOOT_ARM64, *self._common_argv(),
                "-serial", "chardev:con", "-device", "pci-serial,chardev=agent"] + self.extra_qemu
