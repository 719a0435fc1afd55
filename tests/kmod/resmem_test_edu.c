// SPDX-License-Identifier: GPL-2.0
/*
 * Test-only: a driver for QEMU's "edu" PCI device (docs/specs/edu.rst) that
 * proves the resmem in-kernel producer API with real device DMA.  At probe
 * it becomes the producer of region @region and, for each of @records
 * records of @len bytes, has the CPU write the expected bytes into a
 * coherent bounce buffer, the device DMA them into its internal buffer and
 * then DMA them from there into the reserved record (slot.dma), and commits.
 * Record seq s holds pattern seq:@seed at stream offset s * @len, as
 * `resmem capture --generate` would write it.
 *
 * With @atomic, every reserve and commit runs as a cross-CPU function call
 * (smp_call_function_single()): in the other CPU's IPI handler (hard IRQ,
 * even on PREEMPT_RT) or, when that CPU is polling in idle, from the idle
 * loop's queue flush; interrupts are disabled either way, as in a device's
 * interrupt handler: the producer API is documented "Context: any".
 *
 * With @refuse N, a full ring (no consumer, no overwrite) is not the end:
 * the producer refuses records (-ENOSPC: counted, marked later by a GAP
 * record); after N refusals the driver plays the consumer once (cons =
 * head, as resmem drain would store it) and goes on, so the next record
 * accepted comes after a GAP record for exactly those N.
 *
 * With @hold, the driver stays the region's producer after its records
 * until it is unbound (rmmod): the producer slot is taken meanwhile.
 *
 * With @stream, it then goes on producing records (overwriting) from a
 * kernel thread until a call fails, which it reports ("resmem-edu:
 * streaming stopped after N records: ERR", -19 when the region was
 * removed under it), and stays the producer until it is unbound.
 *
 * With @dma_bits, the driver sets a DMA mask of that many bits instead of
 * 64, as a device that addresses less would.
 */
#define pr_fmt(fmt) KBUILD_MODNAME ": " fmt
#include <linux/delay.h>
#include <linux/dma-mapping.h>
#include <linux/io.h>
#include <linux/kthread.h>
#include <linux/module.h>
#include <linux/pci.h>
#include <linux/smp.h>
#include <asm/barrier.h>

#include "linux/resmem.h"	/* the ring format (copied beside this file) */
#include "resmem_producer.h"

#define EDU_DMA_SRC	0x80
#define EDU_DMA_DST	0x88
#define EDU_DMA_CNT	0x90
#define EDU_DMA_CMD	0x98
#define EDU_CMD_START	1
#define EDU_CMD_TO_RAM	2
#define EDU_BUF		0x40000
#define EDU_BUF_SIZE	4096

static char *region = "region0";
module_param(region, charp, 0444);
static unsigned int records = 16;
module_param(records, uint, 0444);
static unsigned int len = 2048;
module_param(len, uint, 0444);
static ulong seed = 1;
module_param(seed, ulong, 0444);
static bool reset;
module_param(reset, bool, 0444);
static bool atomic;
module_param(atomic, bool, 0444);
static unsigned int refuse;
module_param(refuse, uint, 0444);
/* keep producing (the producer slot held) until the module is removed */
static bool hold;
module_param(hold, bool, 0444);
/* and go on producing from a thread until a call fails */
static bool stream;
module_param(stream, bool, 0444);
/* the DMA mask the driver sets (a device that addresses less than 64 bits) */
static unsigned int dma_bits = 64;
module_param(dma_bits, uint, 0444);

/* What a bound device keeps: the producer and, with @stream, its thread. */
struct edu {
	struct pci_dev *pdev;
	void __iomem *bar;
	u64 *bounce;
	dma_addr_t bounce_dma;
	struct resmem_producer *p;
	struct task_struct *streamer;
};

/* One reserve or commit, run where @atomic says (see producer_call()). */
struct producer_op {
	struct resmem_producer *p;
	struct resmem_slot *slot;
	u32 len;
	bool commit;
	int ret;
	bool atomic;
};

static void producer_op_run(void *arg)
{
	struct producer_op *op = arg;

	op->atomic = irqs_disabled() && !preemptible();
	op->ret = op->commit ? resmem_producer_commit(op->p, op->len) :
			       resmem_producer_reserve(op->p, op->len, op->slot);
}

/* Returns the call's result; counts calls that ran with interrupts off. */
static int producer_call(struct producer_op *op, unsigned int *hard)
{
	int this, cpu, ret;

	if (!atomic) {
		producer_op_run(op);
	} else {
		this = get_cpu();
		cpu = cpumask_any_but(cpu_online_mask, this);
		ret = smp_call_function_single(cpu < nr_cpu_ids ? cpu : this,
					       producer_op_run, op, 1);
		put_cpu();
		if (ret)
			return ret;
	}
	*hard += op->atomic;
	return op->ret;
}

static u64 seq_word(u64 s, u64 w)
{
	u64 x = s ^ w;

	x = (x ^ (x >> 30)) * 0xbf58476d1ce4e5b9ULL;
	x = (x ^ (x >> 27)) * 0x94d049bb133111ebULL;
	return x ^ (x >> 31);
}

/*
 * A refused record: after @refuse of them, release everything committed
 * the way a consumer does (cons_seq, then store-release cons).
 */
static void refused_one(struct resmem_producer *p, unsigned int *refused)
{
	struct resmem_ring_hdr *h = resmem_producer_vaddr(p);

	if (++*refused != refuse)
		return;
	WRITE_ONCE(h->cons_seq, READ_ONCE(h->head_seq));
	smp_store_release(&h->cons, READ_ONCE(h->head));
}

static int edu_dma(struct pci_dev *pdev, void __iomem *bar, u64 src, u64 dst,
		   u32 n, u32 cmd)
{
	int i;

	writeq(src, bar + EDU_DMA_SRC);
	writeq(dst, bar + EDU_DMA_DST);
	writeq(n, bar + EDU_DMA_CNT);
	writeq(cmd | EDU_CMD_START, bar + EDU_DMA_CMD);
	for (i = 0; i < 5000; i++) {
		if (!(readq(bar + EDU_DMA_CMD) & EDU_CMD_START))
			return 0;
		usleep_range(500, 1000);
	}
	dev_err(&pdev->dev, "DMA %#llx -> %#llx (%u bytes) did not finish\n", src, dst, n);
	return -ETIMEDOUT;
}

/* One record of @len bytes: reserve, fill, DMA in, DMA into the slot, commit. */
static int stream_one(struct edu *e)
{
	struct resmem_slot slot;
	unsigned int w;
	int ret;

	ret = resmem_producer_reserve(e->p, len, &slot);
	if (ret)
		return ret;
	for (w = 0; w < len / 8; w++)
		e->bounce[w] = cpu_to_le64(seq_word(seed, slot.seq * len + w * 8));
	ret = edu_dma(e->pdev, e->bar, e->bounce_dma, EDU_BUF, len, 0);
	if (!ret)
		ret = edu_dma(e->pdev, e->bar, EDU_BUF, slot.dma, len, EDU_CMD_TO_RAM);
	if (ret)
		return ret;
	return resmem_producer_commit(e->p, len);
}

static int stream_fn(void *arg)
{
	struct edu *e = arg;
	unsigned int n = 0;
	int ret = 0;

	while (!kthread_should_stop()) {
		ret = stream_one(e);
		if (ret)
			break;
		n++;
	}
	dev_info(&e->pdev->dev, "resmem-edu: streaming stopped after %u records: %d\n",
		 n, ret);
	for (;;) {
		set_current_state(TASK_INTERRUPTIBLE);
		if (kthread_should_stop())
			break;
		schedule();
	}
	__set_current_state(TASK_RUNNING);
	return ret;
}

static int edu_probe(struct pci_dev *pdev, const struct pci_device_id *id)
{
	struct edu *e;
	struct resmem_producer *p;
	struct resmem_slot slot = { };
	void __iomem *bar;
	dma_addr_t bounce_dma;
	u64 *bounce, lo = U64_MAX, hi = 0;
	unsigned int i, w, hard = 0, refused = 0;
	struct producer_op op = { .slot = &slot, .len = len };
	int ret;

	/* QEMU < 8.2.1 refuses a transfer that ends exactly at the buffer's end */
	if (!len || len >= EDU_BUF_SIZE || len % 8 || dma_bits < 32 || dma_bits > 64)
		return -EINVAL;
	ret = pcim_enable_device(pdev);
	if (ret)
		return ret;
	pci_set_master(pdev);
	ret = dma_set_mask_and_coherent(&pdev->dev, DMA_BIT_MASK(dma_bits));
	if (ret)
		return ret;
	bar = pcim_iomap(pdev, 0, 0);
	if (!bar)
		return -ENOMEM;
	bounce = dmam_alloc_coherent(&pdev->dev, EDU_BUF_SIZE, &bounce_dma, GFP_KERNEL);
	if (!bounce)
		return -ENOMEM;
	e = devm_kzalloc(&pdev->dev, sizeof(*e), GFP_KERNEL);
	if (!e)
		return -ENOMEM;
	p = resmem_producer_get(region, &pdev->dev,
				(reset ? RESMEM_PRODUCER_RESET : 0) |
				(stream ? RESMEM_PRODUCER_OVERWRITE : 0));
	if (IS_ERR(p)) {
		dev_err(&pdev->dev, "resmem_producer_get(%s): %ld\n", region, PTR_ERR(p));
		return PTR_ERR(p);
	}
	op.p = p;
	for (i = 0; i < records; i++) {
		op.commit = false;
		ret = producer_call(&op, &hard);
		if (ret == -ENOSPC && refuse) {
			refused_one(p, &refused);
			continue;
		}
		if (ret)
			break;
		for (w = 0; w < len / 8; w++)
			bounce[w] = cpu_to_le64(seq_word(seed, slot.seq * len + w * 8));
		ret = edu_dma(pdev, bar, bounce_dma, EDU_BUF, len, 0);
		if (!ret)
			ret = edu_dma(pdev, bar, EDU_BUF, slot.dma, len, EDU_CMD_TO_RAM);
		if (ret)
			break;
		lo = min_t(u64, lo, slot.dma);
		hi = max_t(u64, hi, slot.dma + len);
		op.commit = true;
		ret = producer_call(&op, &hard);
		if (ret)
			break;
	}
	dev_info(&pdev->dev, "resmem-edu: %u reserve/commit calls with interrupts disabled\n", hard);
	dev_info(&pdev->dev, "resmem-edu: %u records refused (ring full)\n", refused);
	dev_info(&pdev->dev, "resmem-edu: %u records of %u bytes DMAed into %s at bus %#llx-%#llx (phys base %pa), last seq %llu, status %d\n",
		 i - refused, len, region, lo, hi, &(phys_addr_t){ resmem_producer_phys(p) },
		 slot.seq, ret);
	if ((hold || stream) && !ret) {
		*e = (struct edu){ .pdev = pdev, .bar = bar, .bounce = bounce,
				   .bounce_dma = bounce_dma, .p = p };
		if (stream)
			e->streamer = kthread_run(stream_fn, e, "resmem-edu");
		if (!IS_ERR(e->streamer)) {
			pci_set_drvdata(pdev, e);
			return 0;
		}
		ret = PTR_ERR(e->streamer);
	}
	resmem_producer_put(p);
	return ret;
}

static void edu_remove(struct pci_dev *pdev)
{
	struct edu *e = pci_get_drvdata(pdev);

	if (!e)		/* neither @hold nor @stream: nothing kept */
		return;
	if (e->streamer)
		kthread_stop(e->streamer);
	resmem_producer_put(e->p);
}

static const struct pci_device_id edu_ids[] = {
	{ PCI_DEVICE(0x1234, 0x11e8) },
	{ }
};
MODULE_DEVICE_TABLE(pci, edu_ids);

static struct pci_driver edu_driver = {
	.name = "resmem_test_edu",
	.id_table = edu_ids,
	.probe = edu_probe,
	.remove = edu_remove,
};
module_pci_driver(edu_driver);

MODULE_LICENSE("GPL");
MODULE_DESCRIPTION("resmem test: QEMU edu DMA into a resmem ring");
