#include "capture/pcap_writer.h"

#include <errno.h>
#include <stdlib.h>
#include <string.h>

#include "util/outset.h"

struct nfm_pcap_writer {
	struct nfm_outset *set;   /* the file appears complete at close, or not at all */
	struct nfm_outfile *out;
	FILE *fp;
	int nanosecond;
	int failed;      /* a write failed: reported by close */
	int err_no;
	char *path;
};

static void put_le32(uint8_t *p, uint32_t v)
{
	p[0] = (uint8_t)v;
	p[1] = (uint8_t)(v >> 8);
	p[2] = (uint8_t)(v >> 16);
	p[3] = (uint8_t)(v >> 24);
}

static void put_le16(uint8_t *p, uint16_t v)
{
	p[0] = (uint8_t)v;
	p[1] = (uint8_t)(v >> 8);
}

int nfm_pcap_writer_open(struct nfm_pcap_writer **out, const char *path, int linktype,
			 uint32_t snaplen, int nanosecond, struct nfm_error *err)
{
	*out = NULL;
	struct nfm_pcap_writer *w = calloc(1, sizeof *w);
	if (!w)
		return nfm_error_set(err, NFM_ERR_NOMEM, "%s: out of memory", path);
	size_t n = strlen(path) + 1;
	w->path = malloc(n);
	if (!w->path) {
		free(w);
		return nfm_error_set(err, NFM_ERR_NOMEM, "%s: out of memory", path);
	}
	memcpy(w->path, path, n);
	struct nfm_outfile *f = NULL;
	w->set = nfm_outset_new(NULL, NULL);
	int rc = w->set ? nfm_outset_create(w->set, path, NFM_OUT_STREAM, &f, err)
			: nfm_error_set(err, NFM_ERR_NOMEM, "%s: out of memory", path);
	if (rc) {
		nfm_outset_free(w->set);
		free(w->path);
		free(w);
		return rc;
	}
	w->out = f;
	w->fp = f->fp;
	w->nanosecond = nanosecond;
	uint8_t hdr[24];
	put_le32(hdr, nanosecond ? 0xa1b23c4du : 0xa1b2c3d4u);
	put_le16(hdr + 4, 2);
	put_le16(hdr + 6, 4);
	put_le32(hdr + 8, 0);
	put_le32(hdr + 12, 0);
	put_le32(hdr + 16, snaplen);
	put_le32(hdr + 20, (uint32_t)linktype);
	if (fwrite(hdr, 1, sizeof hdr, w->fp) != sizeof hdr) {
		w->failed = 1;
		w->err_no = errno;
	}
	*out = w;
	return 0;
}

int nfm_pcap_writer_write(struct nfm_pcap_writer *w, uint64_t ts_ns, const uint8_t *data,
			  uint32_t cap_len, uint32_t wire_len, struct nfm_error *err)
{
	uint8_t rec[16];
	uint64_t sec = ts_ns / 1000000000u;
	uint32_t frac = (uint32_t)(ts_ns % 1000000000u);
	if (!w->nanosecond)
		frac /= 1000u;
	put_le32(rec, (uint32_t)sec);
	put_le32(rec + 4, frac);
	put_le32(rec + 8, cap_len);
	put_le32(rec + 12, wire_len);
	if (fwrite(rec, 1, sizeof rec, w->fp) != sizeof rec ||
	    (cap_len && fwrite(data, 1, cap_len, w->fp) != cap_len)) {
		if (!w->failed)
			w->err_no = errno;
		w->failed = 1;
		return nfm_error_set(err, NFM_ERR_IO, "%s: write failed: %s", w->path,
				     strerror(w->err_no ? w->err_no : EIO));
	}
	return 0;
}

int nfm_pcap_writer_close(struct nfm_pcap_writer *w, struct nfm_error *err)
{
	if (!w)
		return 0;
	int rc;
	if (w->failed)
		rc = nfm_error_set(err, NFM_ERR_IO, "%s: write failed: %s", w->path,
				   strerror(w->err_no ? w->err_no : EIO));
	else if ((rc = nfm_outfile_finish(w->out, err)) == 0)
		rc = nfm_outset_commit(w->set, err);
	nfm_outset_free(w->set);
	free(w->path);
	free(w);
	return rc;
}
