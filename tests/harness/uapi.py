"""The numbers of include/uapi/linux/resmem.h, taken from the header itself.

A tiny C probe includes the header, is compiled by the host's gcc and prints
sizeof, offsetof and the #define values as JSON: the compiler reads the
header exactly as the module and libresmem do, whatever else the header
holds (inline functions, comments, expressions in the #defines).  The probe
runs once per process, when this module is first imported.

Tests use these names instead of literals: a change of the format in the
header changes what the tests expect, in one place.
"""
import json
import os
import subprocess
import tempfile

from .kernels import REPO

HEADER_DIR = os.path.join(REPO, "include", "uapi")

# (name in Python, C expression); every value is printed as an unsigned long long
_VALUES = [
    ("INFO_SIZE", "sizeof(struct resmem_info)"),
    ("SYNC_SIZE", "sizeof(struct resmem_sync)"),
    ("IOC_TYPE", "RESMEM_IOC_TYPE"),
    ("IOC_INFO", "RESMEM_IOC_INFO"),
    ("IOC_SYNC", "RESMEM_IOC_SYNC"),
    ("IOC_RING_NOTIFY", "RESMEM_IOC_RING_NOTIFY"),
    ("IOC_RING_PRODUCER", "RESMEM_IOC_RING_PRODUCER"),
    ("SYNC_FOR_CPU", "RESMEM_SYNC_FOR_CPU"),
    ("SYNC_FOR_DEVICE", "RESMEM_SYNC_FOR_DEVICE"),
    ("RING_MAGIC", "RESMEM_RING_MAGIC"),
    ("RING_VERSION", "RESMEM_RING_VERSION"),
    ("RING_HDR_SIZE", "RESMEM_RING_HDR_SIZE"),
    ("RING_HDR_STRUCT_SIZE", "sizeof(struct resmem_ring_hdr)"),
    ("RING_ALIGN", "RESMEM_RING_ALIGN"),
    ("RING_MAX_PAYLOAD", "RESMEM_RING_MAX_PAYLOAD"),
    ("RING_F_OVERWRITE", "RESMEM_RING_F_OVERWRITE"),
    ("RING_F_CLOSED", "RESMEM_RING_F_CLOSED"),
    ("RING_F_KERNEL", "RESMEM_RING_F_KERNEL"),
    ("REC_SIZE", "sizeof(struct resmem_ring_rec)"),
    ("REC_F_PAD", "RESMEM_REC_F_PAD"),
    ("REC_F_GAP", "RESMEM_REC_F_GAP"),
    ("GAP_SIZE", "sizeof(struct resmem_ring_gap)"),
]
# struct -> its fields; the probe prints FIELDS[struct][field] = [offset, size]
_FIELDS = {
    "resmem_ring_hdr": ["magic", "version", "hdr_size", "data_off", "data_size", "pos_mod",
                        "reserved0", "geo_crc", "epoch", "flags", "reserved1", "head",
                        "head_seq", "tail", "tail_seq", "refused", "overwritten", "wait_ns",
                        "reserved2", "cons", "cons_seq", "waiters", "reserved3", "corrupt",
                        "reserved4"],
    "resmem_ring_rec": ["len", "flags", "seq", "time_ns", "epoch", "crc"],
    "resmem_ring_gap": ["first_seq", "count", "first_ns", "last_ns"],
    "resmem_info": ["size", "flags", "phys_addr", "length", "cache_mode", "source",
                    "numa_node", "page_size", "name"],
    "resmem_sync": ["size", "direction", "offset", "length"],
}


def _probe_source():
    lines = ["#include <stddef.h>", "#include <stdio.h>", "#include <linux/resmem.h>",
             "int main(void)", "{", '\tprintf("{\\"values\\": {");']
    for i, (name, expr) in enumerate(_VALUES):
        sep = ", " if i else ""
        lines.append(f'\tprintf("{sep}\\"{name}\\": %llu", (unsigned long long)({expr}));')
    lines.append('\tprintf("}, \\"fields\\": {");')
    for i, (struct, fields) in enumerate(_FIELDS.items()):
        lines.append(f'\tprintf("{", " if i else ""}\\"{struct}\\": {{");')
        for j, f in enumerate(fields):
            sep = ", " if j else ""
            lines.append(f'\tprintf("{sep}\\"{f}\\": [%zu, %zu]", offsetof(struct {struct}, {f}), '
                         f'sizeof(((struct {struct} *)0)->{f}));')
        lines.append('\tprintf("}");')
    lines += ['\tprintf("}}\\n");', "\treturn 0;", "}"]
    return "\n".join(lines) + "\n"


def probe():
    """{"values": {NAME: number}, "fields": {struct: {field: [offset, size]}}} from the header."""
    with tempfile.TemporaryDirectory(prefix="resmem-uapi-") as d:
        src, exe = os.path.join(d, "probe.c"), os.path.join(d, "probe")
        with open(src, "w") as f:
            f.write(_probe_source())
        r = subprocess.run(["gcc", "-std=c11", "-Wall", "-Werror", f"-I{HEADER_DIR}", "-o", exe,
                            src], stdout=subprocess.PIPE, stderr=subprocess.STDOUT, text=True)
        if r.returncode:
            raise RuntimeError(f"the probe of {HEADER_DIR}/linux/resmem.h does not compile:\n"
                               f"{r.stdout}")
        out = subprocess.run([exe], stdout=subprocess.PIPE, text=True, check=True).stdout
    return json.loads(out)


_probed = probe()
_values = _probed["values"]
globals().update(_values)        # INFO_SIZE, RING_HDR_SIZE, ... as listed in _VALUES
FIELDS = _probed["fields"]

# bytes a record's CRC covers before its payload: the header up to @crc
REC_CRC_LEN = FIELDS["resmem_ring_rec"]["crc"][0]
# bytes the ring header's geo_crc covers: the header up to @geo_crc
RING_GEO_CRC_LEN = FIELDS["resmem_ring_hdr"]["geo_crc"][0]


def record_span(payload_len):
    """Bytes a record with `payload_len` payload bytes takes in the data area."""
    rec, align = _values["REC_SIZE"], _values["RING_ALIGN"]
    return (rec + payload_len + align - 1) & ~(align - 1)
