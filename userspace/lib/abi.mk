# libresmem's ABI major version, the one place it is set: the shared
# library's soname is libresmem.so.$(LIBRESMEM_ABI) and its symbols' version
# node LIBRESMEM_$(LIBRESMEM_ABI).0 (libresmem.lds).  A changed signature or
# public struct layout raises it.  Read by userspace/Makefile, the top
# Makefile and the tests (tests/test_userspace_unit.py, tests/test_install.py).
LIBRESMEM_ABI := 3
