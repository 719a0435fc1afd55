// SPDX-License-Identifier: GPL-2.0
/*
 * Test-only: reports how a range of the caller's address space is mapped,
 * read from the page tables themselves.  PFN maps show up nowhere else
 * (smaps gives KernelPageSize 4 kB for them, pagemap no PFNs), so this is
 * the witness for "which page sizes does a resmem mapping really use".
 *
 *   echo "START LENGTH" > /proc/resmem_pgwalk; cat /proc/resmem_pgwalk
 * on one open file (write, then read from offset 0) gives
 *   pud=N pmd=N pte=N none=BYTES phys=0x... contiguous=0|1 types=a,b
 * counting leaf entries met walking [START, START+LENGTH) of current->mm:
 * phys is the physical address of START, contiguous says every mapped
 * byte sits at phys + (its offset from START), types lists the memory
 * types of the leaves (x86 PAT index names; arm64 "attrN").
 */
#define pr_fmt(fmt) KBUILD_MODNAME ": " fmt
#include <linux/kernel.h>
#include <linux/mm.h>
#include <linux/module.h>
#include <linux/pgtable.h>
#include <linux/proc_fs.h>
#include <linux/slab.h>
#include <linux/uaccess.h>

#define OUT_MAX 256

struct walk {
	unsigned long n[3];	/* pud, pmd, pte leaves */
	unsigned long none;	/* bytes with no entry */
	u64 start, phys;
	bool have_phys, contiguous;
	unsigned int types;	/* bit i: memory type i seen */
};

#ifdef CONFIG_X86
static const char * const type_names[8] = {
	"wb", "wc", "uc-", "uc", "wb4", "wp", "uc-6", "wt",
};

static unsigned int leaf_type(unsigned long val, bool large)
{
	unsigned long pat = large ? _PAGE_PAT_LARGE : _PAGE_PAT;

	return (!!(val & pat) << 2) | (!!(val & _PAGE_PCD) << 1) |
	       !!(val & _PAGE_PWT);
}
#else
static const char * const type_names[8] = {
	"attr0", "attr1", "attr2", "attr3", "attr4", "attr5", "attr6", "attr7",
};

static unsigned int leaf_type(unsigned long val, bool large)
{
	return (val >> 2) & 7;	/* arm64 AttrIndx */
}
#endif

static void leaf(struct walk *w, int level, u64 addr, unsigned long pfn,
		 unsigned long offset_in_leaf, unsigned long val, bool large)
{
	u64 phys = PFN_PHYS(pfn) + offset_in_leaf;

	w->n[level]++;
	w->types |= 1U << leaf_type(val, large);
	if (!w->have_phys) {
		w->have_phys = true;
		w->phys = phys - (addr - w->start);
	} else if (phys != w->phys + (addr - w->start)) {
		w->contiguous = false;
	}
}

static void walk_range(struct mm_struct *mm, u64 addr, u64 end,
		       struct walk *w)
{
	while (addr < end) {
		pgd_t *pgd = pgd_offset(mm, addr);
		p4d_t *p4d;
		pud_t *pudp, pud;
		pmd_t *pmdp, pmd;
		pte_t *ptep, pte;
		u64 next;

		if (pgd_none(*pgd)) {
			next = min_t(u64, pgd_addr_end(addr, end), end);
			goto hole;
		}
		p4d = p4d_offset(pgd, addr);
		if (p4d_none(*p4d)) {
			next = min_t(u64, p4d_addr_end(addr, end), end);
			goto hole;
		}
		pudp = pud_offset(p4d, addr);
		pud = READ_ONCE(*pudp);
		next = min_t(u64, pud_addr_end(addr, end), end);
		if (pud_none(pud))
			goto hole;
		if (pud_leaf(pud)) {
			leaf(w, 0, addr, pud_pfn(pud), addr & ~PUD_MASK,
			     pud_val(pud), true);
			addr = next;
			continue;
		}
		pmdp = pmd_offset(pudp, addr);
		pmd = READ_ONCE(*pmdp);
		next = min_t(u64, pmd_addr_end(addr, end), end);
		if (pmd_none(pmd))
			goto hole;
		if (pmd_leaf(pmd)) {
			leaf(w, 1, addr, pmd_pfn(pmd), addr & ~PMD_MASK,
			     pmd_val(pmd), true);
			addr = next;
			continue;
		}
		ptep = pte_offset_kernel(pmdp, addr);
		pte = ptep_get(ptep);
		next = addr + PAGE_SIZE;
		if (pte_none(pte))
			goto hole;
		leaf(w, 2, addr, pte_pfn(pte), 0, pte_val(pte), false);
		addr = next;
		continue;
hole:
		w->none += next - addr;
		addr = next;
	}
}

static int pgwalk_open(struct inode *inode, struct file *file)
{
	file->private_data = kzalloc(OUT_MAX, GFP_KERNEL);
	return file->private_data ? 0 : -ENOMEM;
}

static int pgwalk_release(struct inode *inode, struct file *file)
{
	kfree(file->private_data);
	return 0;
}

static ssize_t pgwalk_write(struct file *file, const char __user *ubuf,
			    size_t count, loff_t *ppos)
{
	struct walk w = { .contiguous = true };
	char in[64], *out = file->private_data;
	unsigned long long start, len;
	int i, n;

	if (count >= sizeof(in))
		return -EINVAL;
	if (copy_from_user(in, ubuf, count))
		return -EFAULT;
	in[count] = 0;
	if (sscanf(in, "%llx %llx", &start, &len) != 2 || !len ||
	    start + len < start)
		return -EINVAL;
	w.start = start;
	mmap_read_lock(current->mm);
	walk_range(current->mm, start, start + len, &w);
	mmap_read_unlock(current->mm);

	n = scnprintf(out, OUT_MAX,
		      "pud=%lu pmd=%lu pte=%lu none=%lu phys=%#llx contiguous=%d types=",
		      w.n[0], w.n[1], w.n[2], w.none, w.have_phys ? w.phys : 0,
		      w.contiguous);
	for (i = 0; i < 8; i++)
		if (w.types & (1U << i))
			n += scnprintf(out + n, OUT_MAX - n, "%s%s",
				       (w.types & ((1U << i) - 1)) ? "," : "",
				       type_names[i]);
	scnprintf(out + n, OUT_MAX - n, "\n");
	return count;
}

static ssize_t pgwalk_read(struct file *file, char __user *ubuf, size_t count,
			   loff_t *ppos)
{
	const char *out = file->private_data;

	return simple_read_from_buffer(ubuf, count, ppos, out, strlen(out));
}

static const struct proc_ops pgwalk_ops = {
	.proc_open	= pgwalk_open,
	.proc_release	= pgwalk_release,
	.proc_read	= pgwalk_read,
	.proc_write	= pgwalk_write,
	.proc_lseek	= default_llseek,
};

static int __init resmem_test_pgwalk_init(void)
{
	return proc_create("resmem_pgwalk", 0600, NULL, &pgwalk_ops) ? 0 : -ENOMEM;
}
module_init(resmem_test_pgwalk_init);

static void __exit resmem_test_pgwalk_exit(void)
{
	remove_proc_entry("resmem_pgwalk", NULL);
}
module_exit(resmem_test_pgwalk_exit);

MODULE_DESCRIPTION("resmem test suite: page-table walker for the caller's mappings");
MODULE_LICENSE("GPL");
