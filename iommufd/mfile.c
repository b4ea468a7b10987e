/*
 * iommufd/mfile.c - memory files behind IOAS_MAP_FILE.
 *
 * IOAS_MAP_FILE maps a range of a memory file (a memfd, or any tmpfs or
 * hugetlbfs file, which is what Linux's memfd_pin_folios takes) by file
 * offset rather than by a user address, so the mapping does not depend on
 * any process's address space: QEMU maps guest RAM this way and keeps it
 * mapped across a live update (IOAS_CHANGE_PROCESS).
 *
 * The model keeps one record per file (same device and inode), holding a
 * descriptor of its own for it and a shared mapping of it in this process.
 * A record has user-access operations whose "addresses" are file offsets,
 * so pages, pins and frames work on file pages exactly as on a process's
 * pages: the record's pin key (`mm`) stands for the file.  Copies go
 * through the self user access, which turns a page beyond the end of a
 * file truncated since into -EFAULT instead of a SIGBUS.
 *
 * Two descriptors of the same file share one record, so its pages are
 * pinned once, as Linux pins the file's folios once.  A page reached both
 * through IOAS_MAP of a user mapping of the file and through IOAS_MAP_FILE
 * is two pages here (Linux has one): the model does not merge them.
 */
#include <errno.h>
#include <fcntl.h>
#include <stdio.h>
#include <stdlib.h>
#include <sys/mman.h>
#include <sys/stat.h>
#include <sys/statfs.h>
#include <sys/sysmacros.h>
#include <unistd.h>

#include "iommufd/iofd_int.h"

#define MFILE_TMPFS_MAGIC 0x01021994u
#define MFILE_HUGETLBFS_MAGIC 0x958458f6u
/* Pin keys of files: never a process's key (a pid, below 2^22, with a
 * server's generation count above bit 32; 0 for this process). */
#define MFILE_MM_BASE (UINT64_C(1) << 63)

struct iofd_mfile {
	struct iofd_mfile *next;
	unsigned refs;
	int fd;       /* our own descriptor for the file */
	bool writable; /* opened for writing */
	bool memory;   /* tmpfs or hugetlbfs: Linux can pin it */
	dev_t dev;
	ino_t ino;
	uint8_t *base; /* shared mapping of [0, mapped) */
	uint64_t mapped;
	struct iofd_uaccess ua;
};

static struct iofd_mfile *mfiles;
static uint64_t mfile_next_mm = MFILE_MM_BASE;

/* The file's size now; 0 if it cannot be read. */
static uint64_t mfile_size(const struct iofd_mfile *f)
{
	struct stat st;
	return fstat(f->fd, &st) ? 0 : (uint64_t)st.st_size;
}

/* Map the file up to `need` bytes (growing the mapping if the file grew). */
static int mfile_map(struct iofd_mfile *f, uint64_t need)
{
	if (need <= f->mapped)
		return 0;
	uint64_t size = mfile_size(f);
	if (need > size)
		return -EINVAL;
	int prot = PROT_READ | (f->writable ? PROT_WRITE : 0);
	void *p = mmap(NULL, size, prot, MAP_SHARED, f->fd, 0);
	if (p == MAP_FAILED)
		return -ENOMEM;
	if (f->base)
		munmap(f->base, f->mapped);
	f->base = p;
	f->mapped = size;
	return 0;
}

static int mfile_copy(struct iofd_mfile *f, uint64_t off, void *buf, size_t len, bool write)
{
	uint64_t end;
	if (__builtin_add_overflow(off, len, &end) || (write && !f->writable) || mfile_map(f, end))
		return -EFAULT;
	uintptr_t at = (uintptr_t)(f->base + off);
	return write ? iofd_uaccess_self.write(NULL, at, buf, len)
		     : iofd_uaccess_self.read(NULL, at, buf, len);
}

static int mfile_read(void *opaque, uint64_t off, void *dst, size_t len)
{
	return mfile_copy(opaque, off, dst, len, false);
}

static int mfile_write(void *opaque, uint64_t off, const void *src, size_t len)
{
	return mfile_copy(opaque, off, (void *)src, len, true);
}

/* Asked before pages are pinned: Linux's memfd_pin_folios takes only
 * memory files and only offsets inside the file (EINVAL otherwise). */
static int mfile_probe(void *opaque, uint64_t off, uint64_t len, bool write)
{
	struct iofd_mfile *f = opaque;
	uint64_t end;
	if (!f->memory || __builtin_add_overflow(off, len, &end))
		return -EINVAL;
	if (write && !f->writable)
		return -EPERM;
	return mfile_map(f, end);
}

int iofd_mfile_get(const struct iofd_uaccess *caller, int fd, struct iofd_mfile **out)
{
	if (!caller->get_fd)
		return -EOPNOTSUPP;
	int own = caller->get_fd(caller->opaque, fd);
	if (own < 0)
		return own;
	struct stat st;
	struct statfs sfs;
	int fl = fcntl(own, F_GETFL);
	if (fstat(own, &st) || fstatfs(own, &sfs) || fl < 0) {
		close(own);
		return -EBADF;
	}
	for (struct iofd_mfile *f = mfiles; f; f = f->next) {
		if (f->dev == st.st_dev && f->ino == st.st_ino) {
			/* A writable descriptor upgrades a record made from a read-only one. */
			if (!f->writable && (fl & O_ACCMODE) == O_RDWR) {
				close(f->fd);
				if (f->base)
					munmap(f->base, f->mapped);
				f->base = NULL;
				f->mapped = 0;
				f->fd = own;
				f->writable = true;
			} else {
				close(own);
			}
			f->refs++;
			*out = f;
			return 0;
		}
	}
	struct iofd_mfile *f = calloc(1, sizeof(*f));
	if (!f) {
		close(own);
		return -ENOMEM;
	}
	f->refs = 1;
	f->fd = own;
	f->writable = (fl & O_ACCMODE) == O_RDWR;
	f->memory = S_ISREG(st.st_mode) && ((uint32_t)sfs.f_type == MFILE_TMPFS_MAGIC ||
					    (uint32_t)sfs.f_type == MFILE_HUGETLBFS_MAGIC);
	f->dev = st.st_dev;
	f->ino = st.st_ino;
	f->ua = (struct iofd_uaccess){
		.read = mfile_read, .write = mfile_write, .probe = mfile_probe, .opaque = f,
		.mm = mfile_next_mm++};
	f->next = mfiles;
	mfiles = f;
	*out = f;
	return 0;
}

void iofd_mfile_put(struct iofd_mfile *f)
{
	if (!f || --f->refs)
		return;
	for (struct iofd_mfile **pp = &mfiles; *pp; pp = &(*pp)->next) {
		if (*pp == f) {
			*pp = f->next;
			break;
		}
	}
	if (f->base)
		munmap(f->base, f->mapped);
	close(f->fd);
	free(f);
}

const struct iofd_uaccess *iofd_mfile_uaccess(struct iofd_mfile *f)
{
	return &f->ua;
}

bool iofd_mfile_writable(const struct iofd_mfile *f)
{
	return f->writable;
}

/*
 * Which file page a process's user address shows, if it is a shared
 * mapping of a file that has a record: /proc/<pid>/maps gives the mapping's
 * offset, device and inode.
 */
bool iofd_mfile_resolve(int pid, uint64_t uaddr, uint64_t *mm, uint64_t *off)
{
	if (!mfiles)
		return false;
	char path[64];
	snprintf(path, sizeof(path), "/proc/%d/maps", pid);
	FILE *fp = fopen(path, "re");
	if (!fp)
		return false;
	char line[512];
	bool found = false;
	while (!found && fgets(line, sizeof(line), fp)) {
		unsigned long long lo, hi, pgoff, ino;
		unsigned maj, mnr;
		char perms[5];
		if (sscanf(line, "%llx-%llx %4s %llx %x:%x %llu", &lo, &hi, perms, &pgoff, &maj, &mnr,
			   &ino) != 7)
			continue;
		if (uaddr < lo || uaddr >= hi)
			continue;
		if (perms[3] != 's')
			break;
		for (struct iofd_mfile *f = mfiles; f; f = f->next) {
			if (f->ino == (ino_t)ino && f->dev == makedev(maj, mnr)) {
				*mm = f->ua.mm;
				*off = pgoff + (uaddr - lo);
				found = true;
				break;
			}
		}
		break;
	}
	fclose(fp);
	return found;
}
